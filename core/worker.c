/* worker */
#include "core/worker.h"
