// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where each source line of a loaded BPF program sits in its JIT image, for profile.sh -l:
 * perf samples an address inside bpf_prog_<tag>_<name>, and this table maps the address
 * back to the line of bpf/ that the verifier kept (the program's BTF line info). perf's own
 * annotate needs libbfd, which Debian's perf is built without.
 *
 *   prog_lines NAME_PREFIX     prints "ADDR<TAB>TAG<TAB>NAME<TAB>FILE:LINE<TAB>SOURCE" per
 *                              line record of every loaded program whose name starts with
 *                              NAME_PREFIX (TAG as in perf's bpf_prog_TAG_NAME symbols; NAME
 *                              is cut at 15 characters)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* One program: 0 printed (or nothing to print), -1 error (already reported). */
static int print_prog(int fd, const char *prefix)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), n, i;
	struct bpf_line_info *lines = NULL;
	__u64 *addrs = NULL;
	struct btf *btf = NULL;
	char name[BPF_OBJ_NAME_LEN + 1], tag[2 * BPF_TAG_SIZE + 1];
	int ret = -1;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	if (strncmp(info.name, prefix, strlen(prefix)) || !info.nr_jited_line_info || !info.btf_id)
		return 0;
	memcpy(name, info.name, sizeof(info.name));
	name[BPF_OBJ_NAME_LEN] = 0;
	for (i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	n = info.nr_jited_line_info;
	if (info.nr_line_info < n)
		n = info.nr_line_info;
	lines = calloc(n, sizeof(*lines));
	addrs = calloc(n, sizeof(*addrs));
	if (!lines || !addrs) {
		fprintf(stderr, "prog_lines: out of memory\n");
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.nr_line_info = n;
	info.line_info_rec_size = sizeof(*lines);
	info.line_info = (__u64)(unsigned long)lines;
	info.nr_jited_line_info = n;
	info.jited_line_info_rec_size = sizeof(*addrs);
	info.jited_line_info = (__u64)(unsigned long)addrs;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "prog_lines: %s: cannot read line info: %s\n", name, strerror(errno));
		goto out;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf) {
		fprintf(stderr, "prog_lines: %s: cannot load BTF %u\n", name, info.btf_id);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *file = btf__name_by_offset(btf, lines[i].file_name_off);
		const char *src = btf__name_by_offset(btf, lines[i].line_off);
		char text[160];
		int j = 0;

		if (!addrs[i]) /* kptr_restrict hides them: nothing to map */
			continue;
		/* one line of text per record: indentation dropped, tabs made spaces */
		while (src && (*src == '\t' || *src == ' '))
			src++;
		for (; src && *src && j < (int)sizeof(text) - 1; src++)
			text[j++] = *src == '\t' ? ' ' : *src;
		text[j] = 0;
		printf("%llx\t%s\t%s\t%s:%u\t%s\n", (unsigned long long)addrs[i], tag, name,
		       base_name(file ? file : "?"), BPF_LINE_INFO_LINE_NUM(lines[i].line_col),
		       text);
	}
	ret = 0;
out:
	btf__free(btf);
	free(lines);
	free(addrs);
	return ret;
}

int main(int argc, char **argv)
{
	__u32 id = 0;
	int fd, ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: prog_lines NAME_PREFIX\n");
		return 2;
	}
	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue; /* unloaded meanwhile */
		if (print_prog(fd, argv[1]))
			ret = 1;
		close(fd);
	}
	return ret;
}
