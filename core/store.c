/* store */
#include "core/store.h"
