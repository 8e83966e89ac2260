/* ctx */
#include "core/ctx.h"
