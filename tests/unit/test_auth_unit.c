/* services/auth: password rules, peppered argon2id, the key file. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../check.h"
#include "auth/auth.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "migrate.h"

static void test_rules(void)
{
	const char *why;

	CHECK_EQ_INT(password_check("abcdefg", NULL, &why), -EINVAL); /* 7 */
	CHECK_CONTAINS(why, "8");
	CHECK_EQ_INT(password_check("correct horse", NULL, &why), 0);
	CHECK_EQ_INT(password_check("读书使人充实明智", NULL, &why),
	             0); /* 8 characters, 24 bytes */
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
	CHECK_EQ_INT(password_check("abc\xff\xfe"
	                            "defgh",
	                            NULL, &why),
	             -EINVAL);
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

struct hash_job {
	struct pwhash *ph;
	const char *hash;
};

static void *verify_once(void *p)
{
	struct hash_job *j = p;

	pwhash_verify(j->ph, j->hash, "correct horse battery");
	return NULL;
}

static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Eight sign-ins at once with two hashing slots: never more than two argon2id computations
 * (19 MiB each) run together. */
static void test_hash_slots(void)
{
	unsigned char pepper[KEY_BYTES];
	char h[PWHASH_STR_SIZE];
	struct hash_job job;
	struct pwhash *ph;
	pthread_t t[8];
	double t0;

	randombytes_buf(pepper, sizeof(pepper));
	CHECK_EQ_INT(pwhash_new(&ph, pepper, 5, 19u << 20, 2), 0);
	CHECK_EQ_INT(pwhash_hash(ph, "correct horse battery", h), 0);
	job.ph = ph;
	job.hash = h;
	t0 = mono_now();
	verify_once(&job);
	printf("argon2id t=5 m=19 MiB: %.1f ms per hash on this machine\n",
	       (mono_now() - t0) * 1e3);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, verify_once, &job);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	CHECK(pwhash_peak(ph) >= 1 && pwhash_peak(ph) <= 2, "peak %d hashes at once",
	      pwhash_peak(ph));
	pwhash_free(ph);
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

/* Session expiry and the sign-in lock, with an injected clock. */
static void test_sessions_and_lock(void)
{
	char dir[] = "/tmp/sx-sess-XXXXXX", path[256], pw[AUTH_PASSWORD_LEN + 1];
	const struct auth_settings set = {.reader_session_s = 1000,
	                                  .reader_idle_s = 100,
	                                  .staff_session_s = 500,
	                                  .staff_idle_s = 50,
	                                  .max_failures = 10,
	                                  .lock_s = 900,
	                                  .addr_free_failures = 1000};
	enum auth_login_result res;
	struct auth_session s1;
	struct principal who;
	struct pwhash *ph;
	struct keys keys;
	struct auth *a;
	struct db *db;
	long long id, retry;
	time_t t;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/x.db", dir);
	randombytes_buf(&keys, sizeof(keys));
	CHECK_EQ_INT(db_open(&db, path), 0);
	CHECK_EQ_INT(
	    migrate_apply(db, migrations_embedded, migrations_embedded_count, NULL, NULL, NULL, 0),
	    0);
	CHECK_EQ_INT(pwhash_new(&ph, keys.pepper, 2, 19u << 20, 2), 0);
	CHECK_EQ_INT(auth_new(&a, &keys, ph, &set), 0);
	CHECK_EQ_INT(auth_create_reader(a, db, "S0001", "赵六", NULL, NULL, pw, &id), 0);

	/* Idle expiry: used within the idle window it lives on; left alone it ends. */
	t = 10000;
	CHECK_EQ_INT(auth_login(a, db, "S0001", pw, "127.0.0.1", t, &res, &retry, &s1), 0);
	CHECK_EQ_INT(res, AUTH_OK);
	CHECK_EQ_INT(s1.max_age, 1000);
	CHECK_EQ_INT(auth_session_principal(a, db, s1.token, t + 90, &who), 0);
	CHECK_EQ_INT(who.kind, PRINCIPAL_READER);
	CHECK_EQ_INT(who.grants, GRANT_READER);
	CHECK(who.via_cookie, "cookie session");
	CHECK_EQ_INT(auth_session_principal(a, db, s1.token, t + 180, &who), 0);
	CHECK_EQ_INT(who.kind, PRINCIPAL_READER); /* 90 s after the last use */
	CHECK_EQ_INT(auth_session_principal(a, db, s1.token, t + 280, &who), 0);
	CHECK_EQ_INT(who.kind, PRINCIPAL_NONE); /* 100 s idle */
	CHECK_EQ_INT(auth_session_principal(a, db, s1.token, t + 200, &who), 0);
	CHECK_EQ_INT(who.kind, PRINCIPAL_NONE); /* and it was deleted, not only refused */

	/* Absolute expiry: even a session in constant use ends. */
	t = 20000;
	CHECK_EQ_INT(auth_login(a, db, "S0001", pw, "127.0.0.1", t, &res, &retry, &s1), 0);
	for (time_t u = t + 90; u < t + 1000; u += 90) {
		auth_session_principal(a, db, s1.token, u, &who);
		CHECK(who.kind == PRINCIPAL_READER, "alive at +%lld", (long long)(u - t));
	}
	CHECK_EQ_INT(auth_session_principal(a, db, s1.token, t + 1000, &who), 0);
	CHECK_EQ_INT(who.kind, PRINCIPAL_NONE);

	/* Lock: 10 failures, then even the right password waits; after the lock it works. */
	t = 30000;
	for (int i = 0; i < 10; i++) {
		CHECK_EQ_INT(auth_login(a, db, "S0001", "wrong password", "10.0.0.1", t + i, &res,
		                        &retry, &s1),
		             0);
		CHECK_EQ_INT(res, AUTH_BAD_CREDENTIALS);
	}
	CHECK_EQ_INT(auth_login(a, db, "S0001", pw, "10.0.0.2", t + 20, &res, &retry, &s1), 0);
	CHECK_EQ_INT(res, AUTH_LOCKED);
	CHECK_EQ_INT(retry, 900 - 11);
	CHECK_EQ_INT(auth_login(a, db, "S0001", pw, "10.0.0.2", t + 9 + 900, &res, &retry, &s1), 0);
	CHECK_EQ_INT(res, AUTH_OK);
	/* A success clears the count: 9 more failures do not lock. */
	for (int i = 0; i < 9; i++)
		auth_login(a, db, "S0001", "wrong password", "10.0.0.1", t + 1000 + i, &res, &retry,
		           &s1);
	CHECK_EQ_INT(auth_login(a, db, "S0001", pw, "10.0.0.2", t + 1010, &res, &retry, &s1), 0);
	CHECK_EQ_INT(res, AUTH_OK);

	auth_free(a);
	pwhash_free(ph);
	db_close(db);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "cleanup failed\n");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_rules();
	test_pwhash();
	test_hash_slots();
	test_keys();
	test_sessions_and_lock();
	CHECK_DONE();
}
