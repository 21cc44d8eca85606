/* pathname — a declared path in one canonical spelling, without touching
 * the file system. */
#ifndef SLUICE_PATHNAME_H
#define SLUICE_PATHNAME_H

/* Normalises path lexically: repeated '/' and '.' segments go, "x/.."
 * pairs cancel, a leading "/.." is "/", a trailing '/' goes; a relative
 * path keeps its leading ".." and is "." when nothing is left. A
 * "scheme://" prefix (file://) is kept and the rest normalised. Owned. */
char *pathname_normalize(const char *path);

#endif
