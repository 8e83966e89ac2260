#ifndef SLUICE_ACTIONS_H
#define SLUICE_ACTIONS_H
#endif
