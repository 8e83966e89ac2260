/* yamltree */
#include "core/yamltree.h"
