/* auth_file.h: reading the token file and the credentials file, which
 * hold secrets: every buffer is zeroed before it is freed. Private to
 * fs/ (auth.c). */
#ifndef PARTNERFS_AUTH_FILE_H
#define PARTNERFS_AUTH_FILE_H

#include <stddef.h>

/* Zeroes and frees *s (a token, a secret, a file's text); *s = NULL. */
void auth_secret_free(char **s);
/* Reads a whole small file (under 64 KiB, else -EFBIG) into a
 * NUL-terminated heap buffer, which the caller zeroes and frees: it may
 * hold a secret. 0 or -errno. */
int auth_file_read(int fd, char **out, size_t *len_out);
/* s without leading and trailing blanks (in place). */
char *auth_file_trim(char *s);
/* The token in a token file's text (trimmed in place): the bare token,
 * "Bearer <token>", or the JSON `az account get-access-token` prints.
 * malloc'd, or NULL when none is there. */
char *auth_file_token(char *text);

#endif
