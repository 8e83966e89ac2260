/* scheduler */
#include "core/scheduler.h"
