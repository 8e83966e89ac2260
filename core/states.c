/* states */
#include "core/states.h"
