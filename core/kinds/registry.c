/* The registry of task kinds: one line per kind, in the order messages list
 * them ("expected one of: sql, shell, load"). Adding a kind adds a line here. */
#include "core/kinds/kind.h"

#define KINDS(X) \
	X(sql)   \
	X(shell) \
	X(load)  \
	X(model) \
	X(check) \
	X(models) \
	X(report) \
	X(backup) \
	X(restore) \
	X(extract)

#define KIND_DECLARE(name) extern const struct kind_ops kind_##name;
KINDS(KIND_DECLARE)

#define KIND_ENTRY(name) &kind_##name,
const struct kind_ops *const kind_registry[] = {KINDS(KIND_ENTRY)};
const size_t kind_count = sizeof kind_registry / sizeof kind_registry[0];
