/* auth_file.c: reading the files that hold secrets (see auth_file.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth_file.h"
#include "partnerfs/ident.h"

#define AUTH_FILE_MAX (64 * 1024)

void auth_secret_free(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int auth_file_read(int fd, char **out, size_t *len_out)
{
	char *data = malloc(AUTH_FILE_MAX + 1);
	size_t len = 0;
	ssize_t n;

	if (!data)
		return -ENOMEM;
	for (;;) {
		n = read(fd, data + len, AUTH_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			explicit_bzero(data, len);
			free(data);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == AUTH_FILE_MAX) {
			explicit_bzero(data, len);
			free(data);
			return -EFBIG;
		}
	}
	data[len] = '\0';
	*out = data;
	*len_out = len;
	return 0;
}

char *auth_file_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r' || end[-1] == '\n'))
		end--;
	*end = '\0';
	return s;
}

/* The file may hold the bare token, "Bearer <token>", or the JSON that
 * `az account get-access-token` prints. */
char *auth_file_token(char *text)
{
	json_object *doc, *v;
	char *t = auth_file_trim(text), *r = NULL;

	if (*t == '{') {
		doc = json_tokener_parse(t);
		if ((json_object_object_get_ex(doc, "accessToken", &v) ||
		     json_object_object_get_ex(doc, "access_token", &v)) &&
		    json_object_is_type(v, json_type_string))
			r = strdup(json_object_get_string(v));
		json_object_put(doc);
		if (r && !ident_is_word(r))
			auth_secret_free(&r);
		return r;
	}
	if (strncasecmp(t, "Bearer ", 7) == 0)
		t = auth_file_trim(t + 7);
	return ident_is_word(t) ? strdup(t) : NULL;
}
