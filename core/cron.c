/* cron */
#include "core/cron.h"
