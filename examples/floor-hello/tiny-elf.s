# tiny-elf.s: a whole ELF executable written by hand -- header, one program header,
# code and text -- assembled and cut out with objcopy, no linker involved (x86-64 Linux).
        .set    BASE, 0x400000          # where the kernel maps the file
ehdr:   .byte   0x7f, 0x45, 0x4c, 0x46  # "\x7fELF"
        .byte   2, 1, 1, 0              # 64-bit, little endian, ELF version 1, System V ABI
        .quad   0
        .word   2                       # e_type: ET_EXEC
        .word   0x3e                    # e_machine: x86-64
        .long   1                       # e_version
        .quad   BASE - (ehdr - start)   # e_entry: BASE + offset of start
        .quad   phdr - ehdr             # e_phoff
        .quad   0                       # e_shoff: no section headers
        .long   0                       # e_flags
        .word   64, 56, 1               # e_ehsize, e_phentsize, e_phnum
        .word   0, 0, 0                 # e_shentsize, e_shnum, e_shstrndx
phdr:   .long   1                       # p_type: PT_LOAD
        .long   5                       # p_flags: read + execute
        .quad   0                       # p_offset: map the file from its first byte
        .quad   BASE, BASE              # p_vaddr, p_paddr
        .quad   end - ehdr, end - ehdr  # p_filesz, p_memsz
        .quad   0x1000                  # p_align
start:  mov     $1, %eax                # write(1, message, length)
        mov     $1, %edi
        lea     message(%rip), %rsi
        mov     $end - message, %edx
        syscall
        mov     $60, %eax               # exit(0)
        xor     %edi, %edi
        syscall
message: .ascii "hello, scratch!\n"
end:
