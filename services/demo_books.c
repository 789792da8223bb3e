/*
 * The demo library's e-books, made at run time from Chinese texts Debian installs
 * (fortunes-zh: 唐诗三百首, 宋词一百首 and a collection of sayings): poems grouped by poet
 * and sayings in volumes become TXT books, which media/txt turns into EPUB 3 files, which go
 * through the same ingest as an upload — with a kiosk category each, twelve categories round.
 * No third-party text is in the repository.
 */
#include "demo_books.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "ingest/ingest.h"
#include "txt.h"

#define FORTUNES_DIR "/usr/share/games/fortunes"
#define MAX_ENTRIES 8000
#define MAX_BOOKS 96
#define SAYINGS_PER_BOOK 60

static const char *const categories[] = {"fiction", "classics", "humanities",    "children",
                                         "history", "business", "inspiration",   "living",
                                         "science", "art",      "culture_video", "audiobook"};

struct entry {
	char *title;  /* 《…》 of a poem, or NULL */
	char *author; /* 作者 of a poem, or NULL */
	char *body;
};

struct book {
	char title[256];
	char author[128];
	char *text; /* TXT with 第N篇 headings */
	size_t len, cap;
	int count;
};

static int book_put(struct book *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 8192;
		char *t;
		while (nc < b->len + n + 1)
			nc *= 2;
		if (!(t = realloc(b->text, nc)))
			return -ENOMEM;
		b->text = t;
		b->cap = nc;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
	return 0;
}

/* The fortunes files colour titles with ANSI escapes ("\033[32m"): drop them. */
static void strip_ansi(char *s)
{
	char *o = s;

	for (char *p = s; *p;) {
		if (p[0] == '\033' && p[1] == '[') {
			p += 2;
			while (*p && *p != 'm')
				p++;
			if (*p)
				p++;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (64L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		size_t got = fread(buf, 1, (size_t)n, f);
		buf[got] = '\0';
	}
	fclose(f);
	if (buf)
		strip_ansi(buf);
	return buf;
}

/* Split a fortunes file on lines holding only "%"; poems get their title and author. */
static int parse_entries(char *text, struct entry *out, int max)
{
	int n = 0;
	char *p = text;

	while (p && *p && n < max) {
		char *end = strstr(p, "\n%\n"), *nl;
		struct entry *e = &out[n];

		if (end)
			*end = '\0';
		memset(e, 0, sizeof(*e));
		nl = strchr(p, '\n');
		if (nl && strstr(p, "《") && strstr(p, "》") && strstr(p, "《") < nl) {
			char *t0 = strstr(p, "《") + strlen("《"), *t1 = strstr(t0, "》");
			char *a = nl + 1, *anl = strchr(a, '\n');
			if (t1 && t1 < nl && anl && strncmp(a, "作者", strlen("作者")) == 0) {
				*t1 = '\0';
				e->title = t0;
				*anl = '\0';
				a += strlen("作者");
				if (strncmp(a, "：", strlen("：")) == 0)
					a += strlen("：");
				else if (*a == ':')
					a++;
				/* "柳开（９４６－９９９）": the poet without the years */
				if (strstr(a, "（"))
					*strstr(a, "（") = '\0';
				e->author = a;
				e->body = anl + 1;
			}
		}
		if (!e->body)
			e->body = p;
		n++;
		p = end ? end + 3 : NULL;
	}
	return n;
}

static int add_piece(struct book *b, const char *title, const char *body)
{
	char head[512];
	int rc;

	b->count++;
	snprintf(head, sizeof(head), "\n第%d篇 %s\n\n", b->count, title);
	if ((rc = book_put(b, head, strlen(head))) || (rc = book_put(b, body, strlen(body))) ||
	    (rc = book_put(b, "\n", 1)))
		return rc;
	return 0;
}

/* Poems of one file grouped by poet: one book per poet with at least min poems. */
static int poet_books(struct entry *e, int n, const char *series, int min, struct book *books,
                      int *nbooks)
{
	int rc;

	for (int i = 0; i < n && *nbooks < MAX_BOOKS; i++) {
		struct book *b = NULL;
		int count = 0;

		if (!e[i].author || !*e[i].author)
			continue;
		for (int j = 0; j < *nbooks; j++)
			if (strcmp(books[j].author, e[i].author) == 0 &&
			    strstr(books[j].title, series))
				b = &books[j];
		if (b)
			continue; /* this poet's book is done */
		for (int j = i; j < n; j++)
			count += e[j].author && strcmp(e[j].author, e[i].author) == 0;
		if (count < min)
			continue;
		b = &books[(*nbooks)++];
		memset(b, 0, sizeof(*b));
		snprintf(b->author, sizeof(b->author), "%s", e[i].author);
		snprintf(b->title, sizeof(b->title), "%s%s选", e[i].author, series);
		for (int j = i; j < n; j++)
			if (e[j].author && strcmp(e[j].author, e[i].author) == 0 &&
			    (rc = add_piece(b, e[j].title, e[j].body)))
				return rc;
	}
	return 0;
}

static const char *const numerals[] = {"一",   "二",   "三",   "四",   "五",   "六",   "七",
                                       "八",   "九",   "十",   "十一", "十二", "十三", "十四",
                                       "十五", "十六", "十七", "十八", "十九", "二十"};

static int saying_books(struct entry *e, int n, int want, struct book *books, int *nbooks)
{
	int vol = 0, rc;

	for (int i = 0; i + SAYINGS_PER_BOOK <= n && vol < want && *nbooks < MAX_BOOKS &&
	                vol < (int)(sizeof(numerals) / sizeof(numerals[0]));
	     i += SAYINGS_PER_BOOK, vol++) {
		struct book *b = &books[(*nbooks)++];
		memset(b, 0, sizeof(*b));
		snprintf(b->title, sizeof(b->title), "书香语录·第%s辑", numerals[vol]);
		snprintf(b->author, sizeof(b->author), "书香编辑部");
		for (int j = i; j < i + SAYINGS_PER_BOOK; j++) {
			char t[64];
			snprintf(t, sizeof(t), "语录 %d", j - i + 1);
			if ((rc = add_piece(b, t, e[j].body)))
				return rc;
		}
	}
	return 0;
}

/* Write one book as TXT, make it an EPUB, store it, ingest it like an upload would. */
static int ingest_book(struct app *app, const char *tmp, const struct book *b, int index,
                       const char *month, int *added)
{
	char txt[4096], epub[4096], hex[BLOB_HEX_SIZE], ident[64], err[256], name[300];
	struct txt_epub_opts opts = {0};
	struct txt_epub_result res = {0};
	struct manifest_row row = {0};
	struct ingest_ctx x = {.app = app};
	struct ingest_outcome oc;
	int fd, rc;

	if (snprintf(txt, sizeof(txt), "%s/book-%d.txt", tmp, index) >= (int)sizeof(txt) ||
	    snprintf(epub, sizeof(epub), "%s/book-%d.epub", tmp, index) >= (int)sizeof(epub))
		return -ENAMETOOLONG;
	fd = open(txt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write(fd, b->text, b->len) == (ssize_t)b->len ? 0 : -EIO;
	close(fd);
	if (rc)
		return rc;
	snprintf(ident, sizeof(ident), "urn:shuxiang:demo:%d", index);
	opts.title = b->title;
	opts.author = b->author;
	opts.identifier = ident;
	opts.modified = app->now();
	rc = txt_to_epub(txt, epub, 64u << 20, &opts, &res, err, sizeof(err));
	txt_epub_result_release(&res);
	if (rc)
		return rc;
	fd = open(epub, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = blob_put_fd(app->blobs, fd, hex, NULL);
	close(fd);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "%s.epub", b->title);
	row.category = (char *)categories[index % 12];
	row.licence = index % 3 == 2 ? (char *)"copies 2" : (char *)"open";
	row.kiosk_month = (char *)month;
	row.description = (char *)(strstr(b->title, "语录") ? "书香编辑部从 Debian fortunes-zh "
	                                                      "中选编的语录。"
	                                                    : "选自 Debian fortunes-zh 所收的"
	                                                      "唐诗三百首与宋词一百首。");
	if ((rc = ingest_blob(&x, hex, name, &row, &oc)))
		return rc;
	if (oc.status == INGEST_FAILED)
		return -EBADMSG;
	*added += oc.status == INGEST_OK;
	return 0;
}

int demo_add_books(struct app *app, int *added, char *err, size_t errlen)
{
	static const char *const files[] = {"tang300", "song100", "chinese"};
	char *texts[3] = {NULL, NULL, NULL}, tmp[4096], month[8];
	struct entry *entries = NULL;
	struct book *books = NULL;
	int nbooks = 0, rc = 0;
	time_t now = app->now();
	struct tm tm;

	*added = 0;
	localtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	for (int i = 0; i < 3; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", FORTUNES_DIR, files[i]);
		if (!(texts[i] = read_all(path))) {
			snprintf(err, errlen, "%s is missing (Debian package fortunes-zh)", path);
			rc = -ENOENT;
			goto out;
		}
	}
	entries = calloc(MAX_ENTRIES, sizeof(*entries));
	books = calloc(MAX_BOOKS, sizeof(*books));
	if (!entries || !books) {
		rc = -ENOMEM;
		goto out;
	}
	{
		int n = parse_entries(texts[0], entries, MAX_ENTRIES);
		if ((rc = poet_books(entries, n, "诗", 3, books, &nbooks)))
			goto out;
		n = parse_entries(texts[1], entries, MAX_ENTRIES);
		if ((rc = poet_books(entries, n, "词", 2, books, &nbooks)))
			goto out;
		n = parse_entries(texts[2], entries, MAX_ENTRIES);
		/* sayings fill the shelves up to at least 72 books (6 per category) */
		if ((rc = saying_books(entries, n, nbooks < 72 ? 72 - nbooks : 0, books, &nbooks)))
			goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/staging/demo-XXXXXX", app->cfg.data);
	if (!mkdtemp(tmp)) {
		rc = -errno;
		goto out;
	}
	for (int i = 0; i < nbooks && !rc; i++) {
		rc = ingest_book(app, tmp, &books[i], i, month, added);
		if (rc)
			snprintf(err, errlen, "demo book %s: %s", books[i].title, strerror(-rc));
	}
	fs_remove_tree(tmp);
out:
	for (int i = 0; i < 3; i++)
		free(texts[i]);
	for (int i = 0; books && i < nbooks; i++)
		free(books[i].text);
	free(books);
	free(entries);
	return rc;
}
