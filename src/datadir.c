/*
 * datadir.c - the folders the shipped data files are looked for in
 * (datadir.h). `make install` compiles this file once more with the
 * install PREFIX in CAIGEN_SHARE_DIR.
 */
#include "datadir.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CAIGEN_SHARE_DIR
#define CAIGEN_SHARE_DIR "/usr/local/share/caigen"
#endif

const char *datadir_share(void)
{
	return CAIGEN_SHARE_DIR;
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The running program's folder, or NULL. */
static char *exe_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(exe);
}

/* DIR when it is a caigen source tree (a build run from elsewhere) */
static char *source_tree(const char *dir)
{
	char *mark = xasprintf("%s/src/datadir.h", dir);
	bool is = readable(mark);

	free(mark);
	return is ? xstrdup(dir) : NULL;
}

int datadir_constitution(const char *name, char **path, struct err *err)
{
	const char *env = getenv("CAIGEN_DATA_DIR");
	bool bare = !strchr(name, '/');
	size_t len = strlen(name);
	bool has_ext = len > 5 && (!strcmp(name + len - 5, ".yaml") ||
				   (len > 4 && !strcmp(name + len - 4, ".yml")));
	char *dirs[6], *bin = exe_dir();
	size_t nd = 0;
	char *tried = xstrdup("");
	int rc = -1;

	*path = NULL;
	if (readable(name) || name[0] == '/' || !*name) {
		*path = xstrdup(name);
		free(tried);
		free(bin);
		return 0;
	}
	if (env && *env)
		dirs[nd++] = xstrdup(env);
	dirs[nd++] = xstrdup(".");
	if (bin) {
		char *up = xasprintf("%s/../..", bin);

		/* ./caigen and obj/default/caigen of a source tree */
		if ((dirs[nd] = source_tree(bin)))
			nd++;
		if ((dirs[nd] = source_tree(up)))
			nd++;
		dirs[nd++] = xasprintf("%s/../share/caigen", bin);
		free(up);
		free(bin);
	}
	dirs[nd++] = xstrdup(CAIGEN_SHARE_DIR);
	for (size_t i = 0; i < nd && rc < 0; i++) {
		/* a short name lives in DIR/constitution; a relative path
		 * (the default constitution/harmless.yaml) is DIR/PATH */
		char *p = bare ? xasprintf("%s/constitution/%s%s", dirs[i],
					   name, has_ext ? "" : ".yaml") :
			  xasprintf("%s/%s", dirs[i], name);
		char *t;

		if (readable(p)) {
			*path = p;
			rc = 0;
			break;
		}
		t = xasprintf("%s%s%s", tried, *tried ? ", " : "", p);
		free(tried);
		tried = t;
		free(p);
	}
	if (rc < 0 && !bare) {
		/* a path found nowhere: opening it says why */
		*path = xstrdup(name);
		rc = 0;
	} else if (rc < 0)
		err_set(err, "no constitution '%s' (looked in: %s); name a "
			"file, or one of the shipped ones: harmless, "
			"helpful-honest, udhr", name, tried);
	for (size_t i = 0; i < nd; i++)
		free(dirs[i]);
	free(tried);
	return rc;
}
