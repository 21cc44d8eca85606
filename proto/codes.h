/* codes — the numbers the wire carries to say why something was refused.
 * Both ends use these names, never the bare numbers (proto/sluice.proto
 * documents the same values beside each field). */
#ifndef SLUICE_CODES_H
#define SLUICE_CODES_H

/* ErrorRep.code: why the scheduler did not do what a client asked. */
#define API_E_BAD_REQUEST 1 /* malformed or unknown request */
#define API_E_NOT_FOUND   2 /* something it names does not exist */
#define API_E_REFUSED     3 /* the client's role may not do it */
#define API_E_INTERNAL    4 /* the scheduler failed; see its log */
#define API_E_STORE_FULL  5 /* the disk holding the store is full */

/* Refuse.code: why the scheduler turned a worker away. */
#define REFUSE_E_VERSION      1 /* incompatible protocol major version */
#define REFUSE_E_NOT_ADMITTED 2 /* key not accepted, revoked, or name taken */
#define REFUSE_E_MALFORMED    3 /* a Register it cannot use */
#define REFUSE_E_PENDING      4 /* key recorded, waiting for an operator */

#endif
