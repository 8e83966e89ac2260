#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H
#endif
