/* actions */
#include "core/actions.h"
