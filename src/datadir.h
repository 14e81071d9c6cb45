/*
 * datadir.h - where caigen finds the data files it ships: constitutions
 * (and, installed next to them, the schemas and the cluster templates).
 *
 * A constitution may be named by a path ("my/rules.yaml") or by its short
 * name ("harmless", "harmless.yaml"). A path that exists is used as it is.
 * Otherwise the name (or the relative path) is looked for, in this order:
 *
 *   1. $CAIGEN_DATA_DIR/constitution/  (an override; $CAIGEN_DATA_DIR/PATH
 *      for a relative path)
 *   2. ./constitution/                 (the source tree, run from it)
 *   3. the source tree the running program was built in, when it is
 *      BIN or BIN/../.. (./caigen, obj/default/caigen), BIN the folder of
 *      the running program
 *   4. BIN/../share/caigen/constitution/ (an installed tree moved or
 *      staged with DESTDIR)
 *   5. PREFIX/share/caigen/constitution/, PREFIX compiled in by
 *      `make install` (CAIGEN_SHARE_DIR; /usr/local by default)
 *
 * The first file found wins. A short name found nowhere is an error that
 * lists every place looked in; a path found nowhere is returned as it is
 * (opening it then says why).
 */
#ifndef CAIGEN_DATADIR_H
#define CAIGEN_DATADIR_H

#include "util.h"

/* The compiled-in share folder, e.g. "/usr/local/share/caigen". */
const char *datadir_share(void);

/*
 * Resolve constitution `name` to a readable file: a new heap string in
 * *path. -1 with "no constitution 'x' (looked in: ...)" in err when there
 * is none.
 */
int datadir_constitution(const char *name, char **path, struct err *err)
	__attribute__((warn_unused_result));

#endif
