/* services/catalog: ISBN validation and normalisation to ISBN-13. */
#include <errno.h>

#include "../check.h"
#include "catalog/isbn.h"

int main(void)
{
	static const struct {
		const char *in, *want;
	} good[] = {
	    {"9787020002207", "9787020002207"}, /* 红楼梦, 人民文学出版社 */
	    {"978-7-02-000220-7", "9787020002207"},
	    {"ISBN 978-7-02-000220-7", "9787020002207"},
	    {"ISBN-13: 9787020002207", "9787020002207"},
	    {"7-02-000220-X", "9787020002207"}, /* its ISBN-10 */
	    {"702000220x", "9787020002207"},
	    {"0-8044-2957-X", "9780804429573"}, /* check digit X */
	    {"080442957x", "9780804429573"},
	    {"979-10-90636-07-1", "9791090636071"}, /* 979 prefix */
	};
	static const char *const bad[] = {
	    "",
	    "978702000220",
	    "97870200022071",
	    "9787020002208",
	    "7-02-000220-5",
	    "978-7-02-0002X0-7",
	    "X020002204",
	    "9777020002205",
	    "ISBN",
	    "978 7020 002 20 7 extra",
	};
	char out[ISBN13_SIZE];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(isbn_normalize(good[i].in, out) == 0, "%s should be valid", good[i].in);
		CHECK_STR(out, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(isbn_normalize(bad[i], out) == -EINVAL, "\"%s\" should be refused", bad[i]);
	CHECK_EQ_INT(isbn_normalize(NULL, out), -EINVAL);
	CHECK_DONE();
}
