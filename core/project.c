/* project */
#include "core/project.h"
