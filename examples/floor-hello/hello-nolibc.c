/* hello-nolibc.c: no C library at all -- two system calls made by hand (x86-64 Linux). */
static long syscall3(long number, long a, long b, long c)
{
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return result;
}

void _start(void)
{
    static const char message[] = "hello, scratch!\n";
    syscall3(1, 1, (long)message, sizeof message - 1); /* write(1, message, 16) */
    syscall3(60, 0, 0, 0);                              /* exit(0) */
}
