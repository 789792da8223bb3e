#ifndef SHUXIANG_PASSWORD_H
#define SHUXIANG_PASSWORD_H

#include <sodium.h>
#include <stddef.h>

#include "keys.h"

/*
 * Password hashing: argon2id (libsodium crypto_pwhash_str) over HMAC-SHA-256(pepper, password).
 * At most `concurrency` hashes run at once; callers beyond that wait, so a sign-in flood costs
 * time, not memory.
 */
struct pwhash;

#define PWHASH_STR_SIZE crypto_pwhash_STRBYTES

int pwhash_new(struct pwhash **out, const unsigned char pepper[KEY_BYTES], unsigned long long ops,
               size_t mem_bytes, int concurrency);
void pwhash_free(struct pwhash *ph); /* accepts NULL */

/* The most hashes that have run at once so far (never above the concurrency given). */
int pwhash_peak(struct pwhash *ph);

/* Hash password into out. Errors: -ENOMEM (argon2 could not get its memory). */
int pwhash_hash(struct pwhash *ph, const char *password, char out[PWHASH_STR_SIZE]);

/*
 * 0 when password matches stored; -EACCES otherwise. stored == NULL (no such account) still
 * costs one hash, so timing does not tell whether a login exists.
 */
int pwhash_verify(struct pwhash *ph, const char *stored, const char *password);

/*
 * Web password rules (ASVS 2.1): 8 to 128 characters of valid UTF-8, any characters, no
 * composition rules, not on the common-password list, not the login itself. Returns 0 or
 * -EINVAL with *why set to a sentence for the person (static).
 */
int password_check(const char *password, const char *login, const char **why);

/* A random password of len characters from an alphabet without look-alikes; out has len + 1. */
void password_generate(char *out, size_t len);

#endif
