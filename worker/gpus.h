/* gpus — which of the worker's GPUs each running attempt holds.
 *
 * The worker owns one pool of its N devices (indices 0 .. N-1, as the CUDA
 * driver numbers them). An attempt that asks for k GPUs gets k indices no
 * other running attempt holds, until it ends; the child sees them as
 * CUDA_VISIBLE_DEVICES and SLUICE_GPUS ("0,2"; "" for none). */
#ifndef SLUICE_GPUS_H
#define SLUICE_GPUS_H

#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

#define GPUS_MAX       256  /* devices one worker tracks */
#define GPUS_LIST_SIZE 1024 /* "0,1,...,255" and its NUL fit */

typedef struct gpus_t gpus_t;

/* The number of NVIDIA devices that `program -L` lists (program is usually
 * "nvidia-smi", searched in PATH): its lines starting with "GPU ". 0 when
 * the program is missing, fails, or does not finish within timeout_ms (it
 * is then killed). Blocks for at most timeout_ms. */
uint32_t gpus_detect(const char *program, int timeout_ms);

/* A pool of count devices (at most GPUS_MAX), all free. Caller owns it. */
gpus_t *gpus_new(uint32_t count);

/* Frees and nulls *self_p; accepts NULL. */
void gpus_destroy(gpus_t **self_p);

/* Devices in the pool. */
uint32_t gpus_count(const gpus_t *self);

/* Devices no attempt holds. */
uint32_t gpus_free(const gpus_t *self);

/* 0 when count devices are free now, else -1 with err saying so. */
int gpus_check(const gpus_t *self, uint32_t count, errbuf_t *err);

/* Gives attempt_id (non-zero) count free devices, lowest indices first, and
 * writes them as "0,2" into list ("" for count 0), which has room for
 * GPUS_LIST_SIZE bytes. -1 with err when fewer than count are free; nothing
 * is taken then. */
int gpus_take(gpus_t *self,
              uint64_t attempt_id,
              uint32_t count,
              char *list,
              size_t size,
              errbuf_t *err);

/* Frees the devices attempt_id holds; returns how many. */
uint32_t gpus_release(gpus_t *self, uint64_t attempt_id);

#endif
