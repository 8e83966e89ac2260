#ifndef SLUICE_CTX_H
#define SLUICE_CTX_H
#endif
