/* cmd_validate */
#include "cli/cli.h"
