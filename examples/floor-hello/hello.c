/* hello.c: the same program in C, linked statically against glibc. */
#include <stdio.h>

int main(void)
{
    puts("hello, scratch!");
    return 0;
}
