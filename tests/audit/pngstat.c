/*
 * pngstat.c - what a PNG screenshot holds, for the HTML report test:
 *
 *   pngstat FILE [RRGGBB...]
 *
 * prints "WIDTH HEIGHT COLOURS" (distinct RGB values), then one line
 * "RRGGBB COUNT" per colour asked for. Reads 8-bit RGB or RGBA,
 * non-interlaced (what Chromium writes); anything else exits 2.
 * Build: cc -o pngstat pngstat.c -lz
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int die(const char *why)
{
	fprintf(stderr, "pngstat: %s\n", why);
	return 2;
}

static unsigned char paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return (unsigned char)a;
	return (unsigned char)(pb <= pc ? b : c);
}

int main(int argc, char **argv)
{
	static const unsigned char sig[8] = { 137, 'P', 'N', 'G', 13, 10,
					      26, 10 };
	unsigned char *file, *idat = NULL, *raw, *seen;
	size_t flen, ilen = 0, pos = 8, stride, bpp = 0;
	uint32_t w = 0, h = 0, ncol = 0;
	uLongf rawlen;
	FILE *f;
	long n;

	if (argc < 2)
		return die("usage: pngstat FILE [RRGGBB...]");
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 8)
		return die("cannot read the file");
	flen = (size_t)n;
	rewind(f);
	file = malloc(flen);
	if (!file || fread(file, 1, flen, f) != flen)
		return die("cannot read the file");
	fclose(f);
	if (memcmp(file, sig, 8))
		return die("not a PNG");
	while (pos + 12 <= flen) {
		uint32_t len = be32(file + pos);
		const unsigned char *type = file + pos + 4, *d = type + 4;

		if (pos + 12 + len > flen)
			return die("truncated chunk");
		if (!memcmp(type, "IHDR", 4)) {
			w = be32(d);
			h = be32(d + 4);
			if (d[8] != 8 || d[12] != 0 ||
			    (d[9] != 2 && d[9] != 6))
				return die("only 8-bit RGB/RGBA, "
					   "non-interlaced");
			bpp = d[9] == 6 ? 4 : 3;
		} else if (!memcmp(type, "IDAT", 4)) {
			idat = realloc(idat, ilen + len);
			memcpy(idat + ilen, d, len);
			ilen += len;
		}
		pos += 12 + len;
	}
	if (!bpp || !w || !h)
		return die("no IHDR");
	stride = (size_t)w * bpp;
	rawlen = (uLongf)((stride + 1) * h);
	raw = malloc(rawlen);
	if (uncompress(raw, &rawlen, idat, ilen) != Z_OK ||
	    rawlen != (stride + 1) * h)
		return die("bad image data");
	/* undo the per-row filters in place */
	for (uint32_t y = 0; y < h; y++) {
		unsigned char *row = raw + y * (stride + 1), *cur = row + 1;
		unsigned char *prev = y ? raw + (y - 1) * (stride + 1) + 1 :
					  NULL;

		for (size_t x = 0; x < stride; x++) {
			int a = x >= bpp ? cur[x - bpp] : 0;
			int b = prev ? prev[x] : 0;
			int c = prev && x >= bpp ? prev[x - bpp] : 0;

			switch (row[0]) {
			case 0: break;
			case 1: cur[x] += (unsigned char)a; break;
			case 2: cur[x] += (unsigned char)b; break;
			case 3: cur[x] += (unsigned char)((a + b) / 2); break;
			case 4: cur[x] += paeth(a, b, c); break;
			default: return die("bad filter");
			}
		}
	}
	seen = calloc(1u << 21, 1);	/* one bit per 24-bit colour */
	for (uint32_t y = 0; y < h; y++) {
		const unsigned char *p = raw + y * (stride + 1) + 1;

		for (uint32_t x = 0; x < w; x++, p += bpp) {
			uint32_t c = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];

			if (!(seen[c >> 3] & (1u << (c & 7)))) {
				seen[c >> 3] |= (unsigned char)(1u << (c & 7));
				ncol++;
			}
		}
	}
	printf("%u %u %u\n", w, h, ncol);
	for (int i = 2; i < argc; i++) {
		uint32_t want = (uint32_t)strtoul(argv[i], NULL, 16), count = 0;

		for (uint32_t y = 0; y < h; y++) {
			const unsigned char *p = raw + y * (stride + 1) + 1;

			for (uint32_t x = 0; x < w; x++, p += bpp)
				count += ((uint32_t)p[0] << 16 | p[1] << 8 |
					  p[2]) == want;
		}
		printf("%s %u\n", argv[i], count);
	}
	free(seen);
	free(raw);
	free(idat);
	free(file);
	return 0;
}
