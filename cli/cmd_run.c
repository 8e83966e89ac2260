/* cmd_run */
#include "cli/cli.h"
