/* services/auth: password rules, peppered argon2id, the key file. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../check.h"
#include "auth/keys.h"
#include "auth/password.h"

static void test_rules(void)
{
	const char *why;

	CHECK_EQ_INT(password_check("abcdefg", NULL, &why), -EINVAL); /* 7 */
	CHECK_CONTAINS(why, "8");
	CHECK_EQ_INT(password_check("correct horse", NULL, &why), 0);
	CHECK_EQ_INT(password_check("读书使人充实明智", NULL, &why), 0); /* 8 characters, 24 bytes */
	CHECK_EQ_INT(password_check("读书使人充实明", NULL, &why), -EINVAL); /* 7 characters */
	{
		char longpw[200];
		memset(longpw, 'x', 128);
		longpw[128] = '\0';
		CHECK_EQ_INT(password_check(longpw, NULL, &why), 0);
		longpw[128] = 'y';
		longpw[129] = '\0';
		CHECK_EQ_INT(password_check(longpw, NULL, &why), -EINVAL);
	}
	CHECK_EQ_INT(password_check("12345678", NULL, &why), -EINVAL);
	CHECK_CONTAINS(why, "常见");
	CHECK_EQ_INT(password_check("PassWord", NULL, &why), -EINVAL);
	CHECK_EQ_INT(password_check("D00012345", "d00012345", &why), -EINVAL);
	CHECK_EQ_INT(password_check("abc\xff\xfe" "defgh", NULL, &why), -EINVAL);
	CHECK_EQ_INT(password_check("abcdefg\xc0\xaf", NULL, &why), -EINVAL); /* overlong */
	{
		char pw[20];
		password_generate(pw, 16);
		CHECK_EQ_INT(strlen(pw), 16);
		CHECK_EQ_INT(password_check(pw, NULL, &why), 0);
	}
}

static void test_pwhash(void)
{
	unsigned char pepper1[KEY_BYTES], pepper2[KEY_BYTES];
	struct pwhash *a, *b;
	char h[PWHASH_STR_SIZE];

	randombytes_buf(pepper1, sizeof(pepper1));
	randombytes_buf(pepper2, sizeof(pepper2));
	CHECK_EQ_INT(pwhash_new(&a, pepper1, 3, 19u << 20, 2), 0);
	CHECK_EQ_INT(pwhash_new(&b, pepper2, 3, 19u << 20, 2), 0);
	CHECK_EQ_INT(pwhash_hash(a, "书香门第 2026", h), 0);
	CHECK(strncmp(h, "$argon2id$", 10) == 0, "argon2id: %s", h);
	CHECK_CONTAINS(h, "m=19456,t=3");
	CHECK(!strstr(h, "书香"), "no plain text in the hash");
	CHECK_EQ_INT(pwhash_verify(a, h, "书香门第 2026"), 0);
	CHECK_EQ_INT(pwhash_verify(a, h, "书香门第 2027"), -EACCES);
	/* The same password under another pepper does not verify: the DB alone is not enough. */
	CHECK_EQ_INT(pwhash_verify(b, h, "书香门第 2026"), -EACCES);
	CHECK_EQ_INT(pwhash_verify(a, NULL, "anything"), -EACCES);
	pwhash_free(a);
	pwhash_free(b);
}

static void test_keys(void)
{
	char dir[] = "/tmp/sx-keys-XXXXXX", path[256];
	struct keys k1, k2;
	struct stat sb;
	bool created;
	FILE *f;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	CHECK_EQ_INT(keys_load_or_create(dir, &k1, &created), 0);
	CHECK(created, "created on first open");
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode 0600: %o",
	      sb.st_mode & 0777);
	CHECK_EQ_INT(keys_load_or_create(dir, &k2, &created), 0);
	CHECK(!created, "loaded the second time");
	CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0, "same keys");
	CHECK(memcmp(k1.pepper, k1.session, KEY_BYTES) != 0, "independent keys");

	chmod(path, 0644);
	CHECK_EQ_INT(keys_load_or_create(dir, &k2, NULL), -EACCES);
	chmod(path, 0600);
	f = fopen(path, "w");
	fprintf(f, "pepper=00\n");
	fclose(f);
	CHECK_EQ_INT(keys_load_or_create(dir, &k2, NULL), -EBADMSG);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_rules();
	test_pwhash();
	test_keys();
	CHECK_DONE();
}
