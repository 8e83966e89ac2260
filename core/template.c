/* template */
#include "core/template.h"
