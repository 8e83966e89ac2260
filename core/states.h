#ifndef SLUICE_STATES_H
#define SLUICE_STATES_H
#endif
