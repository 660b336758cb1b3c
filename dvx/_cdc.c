/*
 * dvx._cdc: content-defined chunking (FastCDC with normalized chunking).
 *
 * Gear rolling hash fp = (fp << 1) + GEAR[byte]; a cut is made after the
 * byte where (fp & mask) == 0. Normalized chunking (level 2): before the
 * average size the mask has log2(avg)+2 bits (cuts are 4x rarer), after it
 * log2(avg)-2 bits (4x likelier), which narrows the size distribution.
 *
 * Masks use bits 62..(63-n): in a gear hash bit k depends only on the last
 * k+1 bytes, so high bits give a 63-byte window. Bit 63 is left out so the
 * two-bytes-per-step loop (fp << 2, GEAR << 1, mask << 1) loses nothing and
 * finds exactly the same cuts as the one-byte loop.
 *
 * GEAR is filled by splitmix64 from seed 0 (docs/format.md, "Chunking");
 * changing it changes every chunk id, so it is part of the format.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t GEAR[256];
static uint64_t GEAR_LS[256];

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t make_mask(int bits) {
    if (bits < 1) bits = 1;
    if (bits > 62) bits = 62;
    return (((uint64_t)1 << bits) - 1) << (63 - bits);
}

static int log2_floor(Py_ssize_t v) {
    int b = 0;
    while (v > 1) { v >>= 1; b++; }
    return b;
}

/* Length of the first chunk of p[0:n]; 0 when it cannot be decided without
 * more data (n < max_size and not eof). */
static Py_ssize_t cut_one(const uint8_t *p, Py_ssize_t n, Py_ssize_t min_size,
                          Py_ssize_t avg_size, Py_ssize_t max_size,
                          uint64_t mask_s, uint64_t mask_l, int eof) {
    if (n <= min_size) return eof ? n : 0;
    Py_ssize_t limit = n < max_size ? n : max_size;
    Py_ssize_t normal = avg_size < limit ? avg_size : limit;
    uint64_t ms_ls = mask_s << 1, ml_ls = mask_l << 1;
    uint64_t fp = 0;
    Py_ssize_t i = min_size;
    for (; i + 1 < normal; i += 2) {
        fp = (fp << 2) + GEAR_LS[p[i]];
        if (!(fp & ms_ls)) return i + 1;
        fp += GEAR[p[i + 1]];
        if (!(fp & mask_s)) return i + 2;
    }
    for (; i < normal; i++) {
        fp = (fp << 1) + GEAR[p[i]];
        if (!(fp & mask_s)) return i + 1;
    }
    for (; i + 1 < limit; i += 2) {
        fp = (fp << 2) + GEAR_LS[p[i]];
        if (!(fp & ml_ls)) return i + 1;
        fp += GEAR[p[i + 1]];
        if (!(fp & mask_l)) return i + 2;
    }
    for (; i < limit; i++) {
        fp = (fp << 1) + GEAR[p[i]];
        if (!(fp & mask_l)) return i + 1;
    }
    if (limit == max_size) return max_size;
    return eof ? n : 0;
}

PyDoc_STRVAR(cut_points_doc,
"cut_points(buffer, min_size, avg_size, max_size, eof) -> list[int]\n\n"
"End offsets of the complete chunks of buffer. Without eof, a trailing part\n"
"whose cut needs more data is left out; the caller keeps it and appends.");

static PyObject *cut_points(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t min_size, avg_size, max_size;
    int eof;
    if (!PyArg_ParseTuple(args, "y*nnnp", &view, &min_size, &avg_size, &max_size, &eof))
        return NULL;
    if (min_size < 64 || avg_size <= min_size || max_size <= avg_size) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "need 64 <= min_size < avg_size < max_size");
        return NULL;
    }
    int bits = log2_floor(avg_size);
    uint64_t mask_s = make_mask(bits + 2), mask_l = make_mask(bits - 2);
    PyObject *out = PyList_New(0);
    if (!out) { PyBuffer_Release(&view); return NULL; }
    const uint8_t *p = (const uint8_t *)view.buf;
    Py_ssize_t n = view.len, pos = 0;
    Py_ssize_t cap = 1024, count = 0;
    Py_ssize_t *cuts = PyMem_RawMalloc(cap * sizeof(Py_ssize_t));
    if (!cuts) { PyBuffer_Release(&view); Py_DECREF(out); return PyErr_NoMemory(); }
    Py_BEGIN_ALLOW_THREADS
    while (pos < n) {
        Py_ssize_t len = cut_one(p + pos, n - pos, min_size, avg_size, max_size, mask_s, mask_l, eof);
        if (len == 0) break;
        pos += len;
        if (count == cap) {
            Py_ssize_t *grown = PyMem_RawRealloc(cuts, 2 * cap * sizeof(Py_ssize_t));
            if (!grown) break;
            cuts = grown; cap *= 2;
        }
        cuts[count++] = pos;
    }
    Py_END_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *v = PyLong_FromSsize_t(cuts[k]);
        if (!v || PyList_Append(out, v) < 0) { Py_XDECREF(v); Py_DECREF(out); out = NULL; break; }
        Py_DECREF(v);
    }
    PyMem_RawFree(cuts);
    PyBuffer_Release(&view);
    return out;
}

/* ---- scan_tree: one stat per regular file, in C ----------------------- */

typedef struct { char *buf; size_t len, cap; int err; int64_t newest; } outbuf;

static int ob_put(outbuf *o, const void *p, size_t n) {
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1 << 16;
        while (cap < o->len + n) cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) { o->err = ENOMEM; return -1; }
        o->buf = b; o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

/* dvx temp files, ".NAME.dvxtmp-<12 hex>" (dvx/_fsutil.py is_tmp_name): a
 * partial copy of an interrupted command, never part of a tree. */
static int is_tmp_name(const char *name, size_t nl) {
    static const char mark[] = ".dvxtmp-";
    const size_t ml = sizeof(mark) - 1, hl = 12;
    if (nl < 1 + ml + hl || name[0] != '.') return 0;
    const char *m = name + nl - hl - ml;
    if (memcmp(m, mark, ml) != 0) return 0;
    for (size_t i = nl - hl; i < nl; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dirfd in sorted-name order; for each regular file (symlinks, special
 * files, dvx temp files and ".git"/".dvx" folders skipped) append
 * u32 len | rel path | u64 size | i64 mtime_ns | i64 ctime_ns | u64 ino | u32 mode
 * and keep the newest mtime or ctime seen in o->newest. */
static void scan_dir(int dirfd, char *rel, size_t rel_len, outbuf *o, int depth) {
    if (depth > 256) { o->err = ELOOP; return; }
    DIR *d = fdopendir(dirfd);
    if (!d) { o->err = errno; close(dirfd); return; }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof(char *));
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) { char **g = realloc(names, 2 * cap * sizeof(char *)); if (!g) break; names = g; cap *= 2; }
        names[n++] = strdup(e->d_name);
    }
    if (!names) { o->err = ENOMEM; closedir(d); return; }
    qsort(names, n, sizeof(char *), cmp_names);
    int fd = dirfd;
    for (size_t i = 0; i < n && !o->err; i++) {
        struct stat st;
        size_t nl = strlen(names[i]);
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        size_t sub_len = rel_len + (rel_len ? 1 : 0) + nl;
        char *sub = malloc(sub_len + 1);
        if (!sub) { o->err = ENOMEM; break; }
        if (rel_len) { memcpy(sub, rel, rel_len); sub[rel_len] = '/'; memcpy(sub + rel_len + 1, names[i], nl); }
        else memcpy(sub, names[i], nl);
        sub[sub_len] = 0;
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(names[i], ".git") && strcmp(names[i], ".dvx")) {
                int cfd = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd >= 0) scan_dir(cfd, sub, sub_len, o, depth + 1);
            }
        } else if (S_ISREG(st.st_mode) && !is_tmp_name(names[i], nl)) {
            uint32_t l = (uint32_t)sub_len;
            uint64_t size = (uint64_t)st.st_size, ino = (uint64_t)st.st_ino;
            int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
            int64_t ct = (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
            uint32_t mode = (uint32_t)st.st_mode;
            ob_put(o, &l, 4); ob_put(o, sub, sub_len); ob_put(o, &size, 8);
            ob_put(o, &mt, 8); ob_put(o, &ct, 8); ob_put(o, &ino, 8); ob_put(o, &mode, 4);
            if (mt > o->newest) o->newest = mt;
            if (ct > o->newest) o->newest = ct;
        }
        free(sub);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    closedir(d);
}

PyDoc_STRVAR(scan_tree_doc,
"scan_tree(path: bytes) -> (bytes, int)\n\n"
"Stat every regular file below path (sorted per folder; symlinks, special\n"
"files, dvx temp files, .git and .dvx skipped) and return the packed records\n"
"u32 len | path | u64 size | i64 mtime_ns | i64 ctime_ns | u64 ino | u32 mode\n"
"(native order) and the newest mtime or ctime in ns (0 for no files).");

static PyObject *scan_tree(PyObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "y", &path)) return NULL;
    outbuf o = {0};
    o.newest = 0;
    Py_BEGIN_ALLOW_THREADS
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) o.err = errno;
    else scan_dir(fd, "", 0, &o, 0);
    Py_END_ALLOW_THREADS
    if (o.err) {
        free(o.buf);
        errno = o.err;
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    }
    PyObject *r = Py_BuildValue("(y#L)", o.buf ? o.buf : "", (Py_ssize_t)o.len, (long long)o.newest);
    free(o.buf);
    return r;
}

static PyMethodDef methods[] = {
    {"cut_points", cut_points, METH_VARARGS, cut_points_doc},
    {"scan_tree", scan_tree, METH_VARARGS, scan_tree_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dvx._cdc", "Native FastCDC chunker for dvx.", -1, methods,
};

PyMODINIT_FUNC PyInit__cdc(void) {
    uint64_t state = 0;
    for (int i = 0; i < 256; i++) {
        GEAR[i] = splitmix64(&state);
        GEAR_LS[i] = GEAR[i] << 1;
    }
    PyObject *m = PyModule_Create(&module);
    if (m) PyModule_AddIntConstant(m, "GEAR_SEED", 0);
    return m;
}
