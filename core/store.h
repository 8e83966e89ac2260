#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H
#endif
