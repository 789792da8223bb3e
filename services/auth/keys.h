#ifndef SHUXIANG_KEYS_H
#define SHUXIANG_KEYS_H

#include <stdbool.h>

#define KEY_BYTES 32

/*
 * Server secrets, kept in DATA/secret.key (mode 0600), never in the database or the repository.
 * The file is created with fresh random keys the first time a data directory is opened; a backup
 * copies it (without it, passwords cannot be verified).
 */
struct keys {
	unsigned char pepper[KEY_BYTES];   /* HMAC key applied to passwords before argon2id */
	unsigned char session[KEY_BYTES];  /* keyed hash of session ids */
	unsigned char device[KEY_BYTES];   /* keyed hash of device secrets */
	unsigned char token[2][KEY_BYTES]; /* content-token MAC keys: current, previous */
	unsigned char idnum[KEY_BYTES];    /* ID-card numbers: secretbox key */
};

/*
 * Load DATA/secret.key, or create it (atomically, 0600) when absent; *created (may be NULL) tells
 * which. Errors: -EACCES when the file is readable by others, -EBADMSG when it is damaged,
 * errno of the file system otherwise.
 */
int keys_load_or_create(const char *data_dir, struct keys *out, bool *created);

/* Wipe the keys from memory. */
void keys_wipe(struct keys *k);

#endif
