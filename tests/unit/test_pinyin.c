/* storage/pinyin: the generated readings table, string expansion, query detection and cutting. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../check.h"
#include "pinyin.h"

/* The readings of the first code point of the UTF-8 string s, joined by '/': "zhang/chang". */
static const char *readings_of(const char *s, char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *r[PINYIN_MAX_READINGS];
	uint32_t cp;
	size_t used = 0;
	int k, i;

	if (p[0] < 0x80)
		cp = p[0];
	else if (p[0] < 0xE0)
		cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	else if (p[0] < 0xF0)
		cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	else
		cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
		     (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
	k = pinyin_readings(cp, r, PINYIN_MAX_READINGS);
	buf[0] = '\0';
	for (i = 0; i < k; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "/" : "", r[i]);
	return buf;
}

static bool forms_have(const struct pinyin_forms *f, const char *full, const char *initials)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->full[i], full) == 0 && strcmp(f->initials[i], initials) == 0)
			return true;
	return false;
}

static bool splits_have(const struct pinyin_splits *s, const char *want)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], want) == 0)
			return true;
	return false;
}

static void test_readings(void)
{
	const char *r[PINYIN_MAX_READINGS];
	char b[256];

	CHECK_STR(readings_of("李", b, sizeof(b)), "li");
	CHECK_STR(readings_of("白", b, sizeof(b)), "bai/bo");
	/* kMandarin gives zhǎng for 长 (Unicode 15), so zhang comes first; chang from the
	 * dictionaries. */
	CHECK_STR(readings_of("长", b, sizeof(b)), "zhang/chang");
	/* 長: kMandarin zhǎng, then cháng; zhàng folds into zhang. */
	CHECK_STR(readings_of("長", b, sizeof(b)), "zhang/chang");
	CHECK_STR(readings_of("行", b, sizeof(b)), "xing/hang/heng");
	CHECK_STR(readings_of("乐", b, sizeof(b)), "le/yue");
	CHECK_STR(readings_of("重", b, sizeof(b)), "zhong/chong/tong");
	/* ü is v, whatever its tone. */
	CHECK_STR(readings_of("绿", b, sizeof(b)), "lv/lu");
	CHECK_STR(readings_of("女", b, sizeof(b)), "nv/ru");
	CHECK_STR(readings_of("略", b, sizeof(b)), "lve");
	/* ê (also with a combining tone mark: ê̄), ế and ề lose their marks, the fields come in
	 * order (kMandarin āi, kTGHZ2013 ê̄, kXHC1983 ēi, kHanyuPinyin xiè); the erhua "r" of
	 * kHanyuPinlu is not kept. */
	CHECK_STR(readings_of("欸", b, sizeof(b)), "ai/e/ei/xie");
	CHECK_STR(readings_of("嗯", b, sizeof(b)), "n/ng");
	CHECK_STR(readings_of("儿", b, sizeof(b)), "er/ren");
	/* Traditional characters, and outside the BMP (Extension B). */
	CHECK_STR(readings_of("龍", b, sizeof(b)), "long/mang");
	CHECK_STR(readings_of("𠀀", b, sizeof(b)), "he");
	/* No reading. */
	CHECK_STR(readings_of("a", b, sizeof(b)), "");
	CHECK_STR(readings_of("。", b, sizeof(b)), "");
	CHECK_EQ_INT(pinyin_readings(0x4E00, r, 0), 0);
	CHECK_EQ_INT(pinyin_readings(0x4E00, NULL, 4), 0);
	CHECK_EQ_INT(pinyin_readings(0x110000, r, 4), 0);
	/* max truncates, keeping the most common. */
	CHECK_EQ_INT(pinyin_readings(0x884C, r, 1), 1); /* 行 */
	CHECK_STR(r[0], "xing");
}

static void test_table_counts(void)
{
	const char *r[PINYIN_MAX_READINGS];
	long with = 0, several = 0, bad = 0;
	uint32_t cp;
	int k, i;
	const char *p;

	for (cp = 0; cp < 0x110000; cp++) {
		k = pinyin_readings(cp, r, PINYIN_MAX_READINGS);
		if (k > 0)
			with++;
		if (k > 1)
			several++;
		for (i = 0; i < k; i++) {
			if (!*r[i] || strlen(r[i]) > 6)
				bad++;
			for (p = r[i]; *p; p++)
				if (*p < 'a' || *p > 'z')
					bad++;
		}
	}
	printf("table: %ld code points with readings, %ld with several\n", with, several);
	CHECK(with >= 40000, "%ld code points", with);
	CHECK(several >= 6000, "%ld with several", several);
	CHECK_EQ_INT(bad, 0);
}

static void test_expand(void)
{
	struct pinyin_forms f = {0};
	static const char title[] = "《红楼梦》曹雪芹";
	char many[128] = "";
	const char *r[PINYIN_MAX_READINGS];
	char first[256] = "";
	size_t used = 0;
	int n, i, j;

	n = pinyin_expand("李白", strlen("李白"), 16, &f);
	CHECK_EQ_INT(n, 2); /* 白 is bai or bo */
	CHECK_STR(f.full[0], "li bai");
	CHECK_STR(f.initials[0], "lb");
	CHECK(forms_have(&f, "li bo", "lb"), "li bo");
	pinyin_forms_release(&f);
	CHECK(f.full == NULL && f.initials == NULL && f.n == 0, "released");

	n = pinyin_expand("长安", strlen("长安"), 16, &f);
	CHECK_EQ_INT(n, 2);
	CHECK(forms_have(&f, "chang an", "ca"), "chang an");
	CHECK(forms_have(&f, "zhang an", "za"), "zhang an");
	CHECK_STR(f.full[0], "zhang an");
	pinyin_forms_release(&f);

	/* Punctuation separates and is dropped; of the six characters only 红 has two readings. */
	n = pinyin_expand(title, strlen(title), 16, &f);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_STR(f.full[0], "hong lou meng cao xue qin");
		CHECK_STR(f.initials[0], "hlmcxq");
		CHECK_STR(f.full[1], "gong lou meng cao xue qin");
		CHECK_STR(f.initials[1], "glmcxq");
	}
	pinyin_forms_release(&f);

	/* Latin words pass through lower-cased, digits too; Han and Latin mix. */
	n = pinyin_expand("Harry Potter 3", strlen("Harry Potter 3"), 16, &f);
	CHECK_EQ_INT(n, 1);
	CHECK_STR(f.full[0], "harry potter 3");
	CHECK_STR(f.initials[0], "hp3");
	pinyin_forms_release(&f);
	n = pinyin_expand("C语言 ２版, Café", strlen("C语言 ２版, Café"), 16, &f);
	CHECK_EQ_INT(n, 2); /* 言 is yan or yin */
	CHECK_STR(f.full[0], "c yu yan 2 ban café");
	CHECK_STR(f.initials[0], "cyy2bc");
	CHECK(forms_have(&f, "c yu yin 2 ban café", "cyy2bc"), "yin");
	pinyin_forms_release(&f);

	/* 20 polyphones: 2^20 combinations and more, cut at cap; the first is the most common
	 * reading of each character, the next 15 differ from it in exactly one character. */
	for (i = 0; i < 5; i++) {
		size_t l = strlen(many);

		snprintf(many + l, sizeof(many) - l, "长行乐重");
	}
	for (i = 0; i < 20; i++) {
		static const uint32_t cps[4] = {0x957F, 0x884C, 0x4E50, 0x91CD};

		pinyin_readings(cps[i % 4], r, 1);
		used += (size_t)snprintf(first + used, sizeof(first) - used, "%s%s", i ? " " : "",
		                         r[0]);
	}
	n = pinyin_expand(many, strlen(many), 16, &f);
	CHECK_EQ_INT(n, 16);
	CHECK_STR(f.full[0], first);
	CHECK_STR(f.initials[0], "zxlzzxlzzxlzzxlzzxlz");
	if (n == 16) {
		CHECK_STR(f.full[1], "chang xing le zhong zhang xing le zhong zhang xing le zhong "
		                     "zhang xing le zhong zhang xing le zhong");
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				CHECK(strcmp(f.full[i], f.full[j]) != 0, "%d and %d repeat", i, j);
		for (i = 1; i < n; i++) {
			int diff = 0;
			const char *a = f.full[0], *b = f.full[i];

			/* Count differing words. */
			while (*a || *b) {
				size_t la = strcspn(a, " "), lb = strcspn(b, " ");

				diff += la != lb || strncmp(a, b, la) != 0;
				a += la + (a[la] == ' ');
				b += lb + (b[lb] == ' ');
			}
			CHECK_EQ_INT(diff, 1);
		}
	}
	pinyin_forms_release(&f);
	n = pinyin_expand(many, strlen(many), 1, &f);
	CHECK_EQ_INT(n, 1);
	CHECK_STR(f.full[0], first);
	pinyin_forms_release(&f);

	/* 行 alone: xing, hang, heng in that order; ranks then spread across characters. */
	n = pinyin_expand("行长", strlen("行长"), 64, &f);
	CHECK_EQ_INT(n, 6);
	if (n == 6) {
		CHECK_STR(f.full[0], "xing zhang");
		CHECK_STR(f.full[1], "hang zhang");
		CHECK_STR(f.full[2], "xing chang");
		CHECK_STR(f.full[5], "heng chang");
	}
	pinyin_forms_release(&f);

	/* Nothing to read, bad arguments, malformed UTF-8. */
	CHECK_EQ_INT(pinyin_expand("《》。, !", strlen("《》。, !"), 16, &f), 0);
	CHECK(f.full == NULL && f.initials == NULL && f.n == 0, "empty");
	CHECK_EQ_INT(pinyin_expand("", 0, 16, &f), 0);
	CHECK_EQ_INT(pinyin_expand(NULL, 0, 16, &f), 0);
	CHECK_EQ_INT(pinyin_expand(NULL, 3, 16, &f), -EINVAL);
	CHECK_EQ_INT(pinyin_expand("李", 3, 0, &f), -EINVAL);
	CHECK_EQ_INT(pinyin_expand("李", 3, PINYIN_MAX_FORMS + 1, &f), -EINVAL);
	CHECK_EQ_INT(pinyin_expand("李", 3, 16, NULL), -EINVAL);
	n = pinyin_expand("\xE6\x9D\x8E\xFF\xC0\xAF\xE7\x99", 8, 16, &f); /* 李, junk, half 白 */
	CHECK_EQ_INT(n, 1);
	if (n == 1)
		CHECK_STR(f.full[0], "li");
	pinyin_forms_release(&f);
	/* Length is not NUL-terminated: only len bytes are read. */
	n = pinyin_expand("李白", 3, 16, &f);
	CHECK_EQ_INT(n, 1);
	if (n == 1)
		CHECK_STR(f.full[0], "li");
	pinyin_forms_release(&f);
	pinyin_forms_release(NULL);
}

static void test_expand_long(void)
{
	struct pinyin_forms f = {0};
	size_t len = 3 * 1000, i;
	char *s = malloc(len);
	int n, words = 1;
	const char *p;

	if (!s)
		return;
	for (i = 0; i < len; i += 3)
		memcpy(s + i, "长", 3);
	n = pinyin_expand(s, len, PINYIN_MAX_FORMS, &f);
	CHECK_EQ_INT(n, PINYIN_MAX_FORMS);
	if (n > 0) {
		for (p = f.full[0]; *p; p++)
			words += *p == ' ';
		CHECK_EQ_INT(words, PINYIN_EXPAND_MAX_SYLLABLES);
		CHECK_EQ_INT(strlen(f.initials[0]), PINYIN_EXPAND_MAX_SYLLABLES);
	}
	pinyin_forms_release(&f);
	free(s);
}

static void test_is_query(void)
{
	char longq[PINYIN_QUERY_MAX + 2];

	CHECK(pinyin_is_query("lb"), "lb");
	CHECK(pinyin_is_query("libai"), "libai");
	CHECK(pinyin_is_query("li bai"), "li bai");
	CHECK(pinyin_is_query("xi'an"), "xi'an");
	CHECK(pinyin_is_query("LiBai"), "LiBai");
	CHECK(!pinyin_is_query("李白"), "李白");
	CHECK(!pinyin_is_query("abc123"), "abc123");
	CHECK(!pinyin_is_query("li3bai2"), "tone numbers");
	CHECK(!pinyin_is_query("li-bai"), "hyphen");
	CHECK(!pinyin_is_query(""), "empty");
	CHECK(!pinyin_is_query(" ' "), "no letter");
	CHECK(!pinyin_is_query(NULL), "NULL");
	memset(longq, 'a', sizeof(longq) - 1);
	longq[PINYIN_QUERY_MAX] = '\0';
	CHECK(pinyin_is_query(longq), "at the cap");
	longq[PINYIN_QUERY_MAX] = 'a';
	longq[PINYIN_QUERY_MAX + 1] = '\0';
	CHECK(!pinyin_is_query(longq), "over the cap");
}

static void test_split(void)
{
	struct pinyin_splits s = {0};
	int n;

	n = pinyin_split("libai", 16, &s);
	CHECK(n >= 1, "%d", n);
	CHECK(splits_have(&s, "li bai"), "li bai");
	if (n >= 1)
		CHECK_STR(s.v[0], "li bai");
	pinyin_splits_release(&s);
	CHECK(s.v == NULL && s.n == 0, "released");

	n = pinyin_split("xian", 16, &s);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_STR(s.v[0], "xian");
		CHECK_STR(s.v[1], "xi an");
	}
	pinyin_splits_release(&s);

	n = pinyin_split("xi'an", 16, &s);
	CHECK_EQ_INT(n, 1);
	if (n == 1)
		CHECK_STR(s.v[0], "xi an");
	pinyin_splits_release(&s);

	n = pinyin_split("zhangan", 16, &s);
	CHECK_EQ_INT(n, 2);
	CHECK(splits_have(&s, "zhang an"), "zhang an");
	CHECK(splits_have(&s, "zhan gan"), "zhan gan");
	pinyin_splits_release(&s);

	n = pinyin_split("  Chang  AN ", 16, &s);
	CHECK_EQ_INT(n, 1);
	if (n == 1)
		CHECK_STR(s.v[0], "chang an");
	pinyin_splits_release(&s);

	/* u for ü after l and n. */
	n = pinyin_split("lue", 16, &s);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK_STR(s.v[0], "lve");
		CHECK_STR(s.v[1], "lu e");
		CHECK_STR(s.v[2], "lv e");
	}
	pinyin_splits_release(&s);
	n = pinyin_split("lvse", 16, &s);
	CHECK_EQ_INT(n, 1);
	if (n == 1)
		CHECK_STR(s.v[0], "lv se");
	pinyin_splits_release(&s);
	n = pinyin_split("luse", 16, &s);
	CHECK_EQ_INT(n, 2);
	CHECK(splits_have(&s, "lu se"), "lu se");
	CHECK(splits_have(&s, "lv se"), "lv se");
	pinyin_splits_release(&s);

	/* Nothing to cut: initials, junk, a syllable typed halfway, not pinyin at all. */
	CHECK_EQ_INT(pinyin_split("qqq", 16, &s), 0);
	CHECK(s.v == NULL && s.n == 0, "empty");
	CHECK_EQ_INT(pinyin_split("lb", 16, &s), 0);
	CHECK_EQ_INT(pinyin_split("libaix", 16, &s), 0);
	CHECK_EQ_INT(pinyin_split("李白", 16, &s), 0);
	CHECK_EQ_INT(pinyin_split("xian", 0, &s), -EINVAL);
	CHECK_EQ_INT(pinyin_split(NULL, 16, &s), -EINVAL);
	CHECK_EQ_INT(pinyin_split("xian", 16, NULL), -EINVAL);

	/* The cap holds, and a long ambiguous query that fails at its end costs no more than one
	 * that succeeds (reachability is computed first). */
	n = pinyin_split("xianxianxianxianxianxian", 8, &s);
	CHECK_EQ_INT(n, 8);
	if (n == 8)
		CHECK_STR(s.v[0], "xian xian xian xian xian xian");
	pinyin_splits_release(&s);
	n = pinyin_split("xianxianxianxianxianxianxianxianxianxianxianxianxianxianxianxianq", 64,
	                 &s);
	CHECK_EQ_INT(n, 0);
	pinyin_splits_release(&s);
	pinyin_splits_release(NULL);
}

int main(void)
{
	test_readings();
	test_table_counts();
	test_expand();
	test_expand_long();
	test_is_query();
	test_split();
	CHECK_DONE();
}
