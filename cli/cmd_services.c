/* cmd_services */
#include "cli/cli.h"
