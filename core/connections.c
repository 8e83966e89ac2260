/* connections */
#include "core/connections.h"
