/* cmd_status */
#include "cli/cli.h"
