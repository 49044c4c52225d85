/* Compiling this needs a C compiler and headers; running the result needs neither. */
#include <stdio.h>

int main(void)
{
    puts("hello from a binary whose compiler is gone");
    return 0;
}
