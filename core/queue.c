/* queue */
#include "core/queue.h"
