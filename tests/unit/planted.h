/*
 * planted.h - prompt sets with planted near duplicates, and the exact
 * answer dedup should approach. Shared by tests/unit/test_dedup.c (small
 * sets) and scripts/bench/dedup_planted.c (the 20,000-prompt bench).
 *
 * planted_make: n prompts of 12..40 words; about 60 % are base prompts
 * (words from a vocabulary of pseudo-words, a quarter of them from 64
 * common ones, so unrelated prompts share some n-grams as real text
 * does), the rest are copies of an earlier base with k words replaced,
 * k drawn so that the copies' word-bigram Jaccard spreads over about
 * 0.2 .. 1.0; a tenth of the copies differ only in case and punctuation
 * (exact duplicates after normalisation).
 *
 * planted_truth: the greedy rule of dedup.h with exact Jaccard: in input
 * order, a prompt is removed when its shingle set's Jaccard with some
 * kept prompt is at least t; marks removed[i]. Candidates come from an
 * inverted index over the kept prompts' shingles.
 */
#ifndef CAIGEN_PLANTED_H
#define CAIGEN_PLANTED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minhash.h"
#include "util.h"

static uint64_t planted_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void planted_word(char *out, uint64_t w)
{
	static const char *syl[] = { "ka", "lo", "mi", "ne", "ru", "ta", "vo",
				     "shi", "pa", "de", "gu", "zo", "bri",
				     "fen", "tor", "al" };
	int n = 1 + (int)(w % 3);

	out[0] = 0;
	w /= 3;
	for (int i = 0; i < n + 1; i++) {
		strcat(out, syl[w % 16]);
		w /= 16;
	}
}

/* The prompts as text lines, newly allocated (free each and the array). */
static char **planted_make(size_t n, uint64_t seed)
{
	char **out = xcalloc(n, sizeof(char *));
	uint64_t st = seed;
	size_t nbase = 0;
	size_t *base = xcalloc(n, sizeof(size_t));
	uint64_t (*words)[40] = xcalloc(n, sizeof(*words));
	int *len = xcalloc(n, sizeof(int));

	for (size_t i = 0; i < n; i++) {
		uint64_t r = planted_next(&st);
		int variant = nbase > 0 && r % 10 >= 6;
		char buf[40 * 24];
		size_t b;

		if (!variant) {
			len[i] = 12 + (int)(planted_next(&st) % 29);
			for (int j = 0; j < len[i]; j++) {
				uint64_t x = planted_next(&st);

				words[i][j] = x % 4 == 0 ? x % 64
					    : 64 + (x >> 8) % 20000;
			}
			base[nbase++] = i;
		} else {
			size_t from = base[planted_next(&st) % nbase];
			int L = len[from], k;
			double s = 0.2 + 0.8 * (double)(planted_next(&st) %
							  1000) / 1000.0;

			len[i] = L;
			memcpy(words[i], words[from], sizeof(words[i]));
			/* k spaced replacements give about (B-2k)/(B+2k) */
			k = (int)((L - 1) * (1 - s) / (2 * (1 + s)) + 0.5);
			if (r % 100 >= 96)
				k = 0;
			for (int j = 0; j < k; j++)
				words[i][planted_next(&st) % (uint64_t)L] =
					100000 + planted_next(&st) % 1000000;
		}
		buf[0] = 0;
		b = 0;
		for (int j = 0; j < len[i]; j++) {
			char w[32];

			planted_word(w, words[i][j]);
			if (variant && r % 100 >= 96 && j == 0)
				w[0] = (char)(w[0] - 'a' + 'A');
			b += (size_t)sprintf(buf + b, "%s%s", j ? " " : "", w);
		}
		if (variant && r % 100 >= 96)
			strcat(buf, "?!");
		out[i] = xstrdup(buf);
	}
	free(base);
	free(words);
	free(len);
	return out;
}

static int planted_cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted distinct shingle hashes of a text. */
static size_t planted_shingles(const char *t, int ngram, uint64_t **out)
{
	struct words w = { 0 };
	size_t n = 0, m = 0;
	uint64_t *g;

	words_split(&w, t, strlen(t));
	if (w.n == 0) {
		*out = NULL;
		words_release(&w);
		return 0;
	}
	if (w.n <= (size_t)ngram) {
		g = xmalloc(sizeof(uint64_t));
		g[n++] = words_gram(&w, 0, w.n);
	} else {
		g = xmalloc(sizeof(uint64_t) * w.n);
		for (size_t i = 0; i + (size_t)ngram <= w.n; i++)
			g[n++] = words_gram(&w, i, (size_t)ngram);
	}
	qsort(g, n, sizeof(uint64_t), planted_cmp64);
	for (size_t i = 0; i < n; i++)
		if (!m || g[m - 1] != g[i])
			g[m++] = g[i];
	words_release(&w);
	*out = g;
	return m;
}

static double planted_jaccard(const uint64_t *a, size_t na,
			      const uint64_t *b, size_t nb)
{
	size_t i = 0, j = 0, same = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j]) {
			same++;
			i++;
			j++;
		} else if (a[i] < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	return na + nb ? (double)same / (double)(na + nb - same) : 1;
}

struct planted_post {
	uint64_t g;
	size_t who;
};

/* removed[i] = 1 when greedy exact dedup removes prompt i. */
static void planted_truth(char **txt, size_t n, int ngram, double t,
			  unsigned char *removed)
{
	uint64_t **sh = xcalloc(n, sizeof(uint64_t *));
	size_t *ns = xcalloc(n, sizeof(size_t));
	/* inverted index: open addressing from shingle to a list head */
	size_t cap = 1;
	size_t *head, *next, npost = 0, postcap = 1024;
	struct planted_post *post = xmalloc(postcap * sizeof(*post));
	size_t *seen = xcalloc(n, sizeof(size_t));
	uint64_t *keys;

	for (size_t i = 0; i < n; i++)
		ns[i] = planted_shingles(txt[i], ngram, &sh[i]);
	for (size_t i = 0; i < n; i++)
		cap += ns[i];
	while (cap & (cap - 1))
		cap++;
	cap *= 2;
	head = xmalloc(cap * sizeof(size_t));
	keys = xcalloc(cap, sizeof(uint64_t));
	for (size_t i = 0; i < cap; i++)
		head[i] = SIZE_MAX;
	next = xmalloc(postcap * sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		int hit = 0;

		for (size_t a = 0; a < ns[i] && !hit; a++) {
			size_t h = (size_t)(sh[i][a] * 0x9e3779b97f4a7c15ULL)
				   & (cap - 1);

			while (head[h] != SIZE_MAX && keys[h] != sh[i][a])
				h = (h + 1) & (cap - 1);
			for (size_t p = head[h]; p != SIZE_MAX && !hit;
			     p = next[p]) {
				size_t c = post[p].who;

				if (seen[c] == i + 1)
					continue;
				seen[c] = i + 1;
				if (planted_jaccard(sh[i], ns[i], sh[c],
						    ns[c]) >= t)
					hit = 1;
			}
		}
		if (ns[i] == 0) {	/* no words: equal to an earlier empty */
			for (size_t c = 0; c < i && !hit; c++)
				hit = !removed[c] && ns[c] == 0;
		}
		removed[i] = (unsigned char)hit;
		if (hit)
			continue;
		for (size_t a = 0; a < ns[i]; a++) {
			size_t h = (size_t)(sh[i][a] * 0x9e3779b97f4a7c15ULL)
				   & (cap - 1);

			while (head[h] != SIZE_MAX && keys[h] != sh[i][a])
				h = (h + 1) & (cap - 1);
			if (npost == postcap) {
				postcap *= 2;
				post = xrealloc(post, postcap * sizeof(*post));
				next = xrealloc(next, postcap * sizeof(size_t));
			}
			post[npost].g = sh[i][a];
			post[npost].who = i;
			next[npost] = head[h];
			keys[h] = sh[i][a];
			head[h] = npost++;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(sh[i]);
	free(sh);
	free(ns);
	free(head);
	free(next);
	free(keys);
	free(post);
	free(seen);
}

#endif
