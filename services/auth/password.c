#include "password.h"

#include <ctype.h>
#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pwhash {
	unsigned char pepper[KEY_BYTES];
	unsigned long long ops;
	size_t mem;
	sem_t slots;
	atomic_int active, peak;     /* hashes running now, and the most ever at once */
	char dummy[PWHASH_STR_SIZE]; /* verified against when the account does not exist */
};

/* Peppered input to argon2id: base64 of HMAC-SHA-256(pepper, password). */
static void pepper_input(const struct pwhash *ph, const char *pw, char out[64])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, (const unsigned char *)pw, strlen(pw), ph->pepper);
	sodium_bin2base64(out, 64, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(mac, sizeof(mac));
}

static void slot_wait(struct pwhash *ph)
{
	int now, peak;

	while (sem_wait(&ph->slots) != 0 && errno == EINTR)
		;
	now = atomic_fetch_add(&ph->active, 1) + 1;
	peak = atomic_load(&ph->peak);
	while (now > peak && !atomic_compare_exchange_weak(&ph->peak, &peak, now))
		;
}

static void slot_post(struct pwhash *ph)
{
	atomic_fetch_sub(&ph->active, 1);
	sem_post(&ph->slots);
}

int pwhash_peak(struct pwhash *ph)
{
	return atomic_load(&ph->peak);
}

int pwhash_hash(struct pwhash *ph, const char *password, char out[PWHASH_STR_SIZE])
{
	char in[64];
	int rc;

	pepper_input(ph, password, in);
	slot_wait(ph);
	rc = crypto_pwhash_str(out, in, strlen(in), ph->ops, ph->mem);
	slot_post(ph);
	sodium_memzero(in, sizeof(in));
	return rc == 0 ? 0 : -ENOMEM;
}

int pwhash_verify(struct pwhash *ph, const char *stored, const char *password)
{
	char in[64];
	int rc;

	pepper_input(ph, password, in);
	slot_wait(ph);
	rc = crypto_pwhash_str_verify(stored ? stored : ph->dummy, in, strlen(in));
	slot_post(ph);
	sodium_memzero(in, sizeof(in));
	return stored && rc == 0 ? 0 : -EACCES;
}

int pwhash_new(struct pwhash **out, const unsigned char pepper[KEY_BYTES], unsigned long long ops,
               size_t mem_bytes, int concurrency)
{
	struct pwhash *ph;
	char dummy_pw[32];
	int rc;

	*out = NULL;
	ph = calloc(1, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	memcpy(ph->pepper, pepper, KEY_BYTES);
	ph->ops = ops;
	ph->mem = mem_bytes;
	if (sem_init(&ph->slots, 0, (unsigned)(concurrency > 0 ? concurrency : 1))) {
		free(ph);
		return -ENOMEM;
	}
	password_generate(dummy_pw, 24);
	rc = pwhash_hash(ph, dummy_pw, ph->dummy);
	if (rc) {
		pwhash_free(ph);
		return rc;
	}
	*out = ph;
	return 0;
}

void pwhash_free(struct pwhash *ph)
{
	if (!ph)
		return;
	sem_destroy(&ph->slots);
	sodium_memzero(ph, sizeof(*ph));
	free(ph);
}

/* Passwords people choose most often (public breach statistics, Chinese sites included). Only
 * entries of 8 or more characters matter, shorter ones fail the length rule first. */
static const char *const common[] = {
    "12345678",   "123456789",   "1234567890",    "87654321",     "987654321",  "11111111",
    "00000000",   "88888888",    "66666666",      "99999999",     "12341234",   "11223344",
    "147258369",  "123123123",   "5201314520",    "13145200",     "woaini1314", "woaini520",
    "iloveyou",   "iloveyou1",   "password",      "password1",    "passw0rd",   "p@ssw0rd",
    "p@ssword",   "qwertyui",    "qwertyuiop",    "1qaz2wsx",     "1q2w3e4r",   "1q2w3e4r5t",
    "qwer1234",   "1234qwer",    "asdf1234",      "zxcvbnm1",     "qazwsxedc",  "a1234567",
    "a12345678",  "a123456789",  "qq123456",      "qq1234567",    "aa123456",   "abc12345",
    "abc123456",  "abcd1234",    "123456aa",      "123456abc",    "123456qq",   "1234abcd",
    "admin123",   "admin1234",   "administrator", "sunshine",     "princess",   "football",
    "baseball",   "superman",    "starwars",      "trustno1",     "whatever",   "computer",
    "michelle",   "jennifer",    "12qwaszx",      "zaq12wsx",     "welcome1",   "letmein1",
    "shuxiang",   "shuxiang123", "library1",      "library123",   "tushuguan",  "123456789a",
    "123456789q", "wang1234",    "zhang123456",   "li123456",     "5201314a",   "1314520520",
    "520520520",  "aaaaaaaa",    "qqqqqqqq",      "asdfghjk",     "zxcvbnma",   "password123",
    "password12", "qwerty123",   "qwerty12",      "iloveyou123",  "woaini123",  "abc123456789",
    "a1b2c3d4",   "admin888",    "admin8888",     "123456789abc", "qazwsx123",  "1qaz2wsx3edc",
    "zxcvbnm123", "welcome123",  "letmein123",    "monkey123",    "dragon123",  "123456qwe",
    "qwe123456",  "123qweasd",   "qweasdzxc",     "asd123456",    "zxc123456",
};

static bool utf8_count(const char *s, size_t *count)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		int len;
		unsigned cp;

		if (*p < 0x80) {
			len = 1;
			cp = *p;
		} else if ((*p & 0xe0) == 0xc0) {
			len = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			len = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			len = 4;
			cp = *p & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
		n++;
	}
	*count = n;
	return true;
}

int password_check(const char *pw, const char *login, const char **why)
{
	size_t n;

	if (!utf8_count(pw, &n)) {
		*why = "密码含有无效字符 (password is not valid UTF-8)";
		return -EINVAL;
	}
	if (n < 8) {
		*why = "密码至少需要 8 个字符 (at least 8 characters)";
		return -EINVAL;
	}
	if (n > 128) {
		*why = "密码不能超过 128 个字符 (at most 128 characters)";
		return -EINVAL;
	}
	if (login && *login && strcasecmp(pw, login) == 0) {
		*why = "密码不能与账号相同 (must differ from the login)";
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
		if (strcasecmp(pw, common[i]) == 0) {
			*why = "这个密码太常见，容易被猜到，请换一个 (too common)";
			return -EINVAL;
		}
	}
	return 0;
}

void password_generate(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";

	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[len] = '\0';
}
