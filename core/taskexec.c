/* taskexec */
#include "core/taskexec.h"
