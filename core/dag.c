/* dag */
#include "core/dag.h"
