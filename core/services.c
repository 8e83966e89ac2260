/* services */
#include "core/services.h"
