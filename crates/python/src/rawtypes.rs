//! `QuerySample` and `QuerySampleResponse` as hand-made Python types.
//!
//! PyO3 classes always take part in Python's cyclic garbage collector: each
//! object carries a 16-byte GC header, and every allocation counts towards
//! the next collection. A harness that builds one response object per
//! sample for an Offline query of millions of samples (as the official API
//! makes it do) then spends most of its time in collections that traverse
//! all the live objects again and again: 500 ns an object instead of 150
//! here. These two types hold only integers, so they need no GC: they are
//! made with `PyType_FromSpec` (stable ABI) without `Py_TPFLAGS_HAVE_GC`,
//! their fields are plain member descriptors (read and written by CPython
//! itself, no wrapper call), and an object is 32 (`QuerySample`) or 48
//! (`QuerySampleResponse`) bytes. They cannot be subclassed.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::IntoPyObjectExt;

/// The C layout of a `QuerySample` object.
#[repr(C)]
pub struct RawSample {
    ob_base: ffi::PyObject,
    pub id: u64,
    pub index: u64,
}

/// The C layout of a `QuerySampleResponse` object.
#[repr(C)]
pub struct RawResponse {
    ob_base: ffi::PyObject,
    pub id: u64,
    pub data: u64,
    pub size: u64,
    pub n_tokens: i64,
}

static SAMPLE_TYPE: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(ptr::null_mut());
static RESPONSE_TYPE: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(ptr::null_mut());

/// Reads one constructor argument as an unsigned 64-bit integer: an `int`,
/// or anything with `__index__` (numpy integers); floats are refused, as
/// pybind11 refuses them.
///
/// # Safety
/// `obj` must be a valid object pointer and the thread attached.
unsafe fn arg_u64(obj: *mut ffi::PyObject) -> Option<u64> {
    unsafe {
        let idx = ffi::PyNumber_Index(obj);
        if idx.is_null() {
            return None;
        }
        let v = ffi::PyLong_AsUnsignedLongLong(idx);
        ffi::Py_DECREF(idx);
        if v == u64::MAX && !ffi::PyErr_Occurred().is_null() {
            return None;
        }
        Some(v)
    }
}

/// As [`arg_u64`], signed.
///
/// # Safety
/// As [`arg_u64`].
unsafe fn arg_i64(obj: *mut ffi::PyObject) -> Option<i64> {
    unsafe {
        let idx = ffi::PyNumber_Index(obj);
        if idx.is_null() {
            return None;
        }
        let v = ffi::PyLong_AsLongLong(idx);
        ffi::Py_DECREF(idx);
        if v == -1 && !ffi::PyErr_Occurred().is_null() {
            return None;
        }
        Some(v)
    }
}

/// Collects up to `N` arguments given by position or by the names in
/// `names` into `out` (missing ones stay null). Sets a TypeError and
/// returns false on a bad call.
///
/// # Safety
/// `args` must be a tuple, `kwargs` null or a dict; the thread attached.
unsafe fn gather<const N: usize>(
    type_name: &str,
    names: [&CStr; N],
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
    out: &mut [*mut ffi::PyObject; N],
) -> bool {
    unsafe {
        let nargs = ffi::PyTuple_Size(args);
        if nargs < 0 {
            return false;
        }
        if nargs as usize > N {
            let msg = format!("{type_name}() takes at most {N} arguments ({nargs} given)");
            PyTypeError::new_err(msg).restore(Python::assume_attached());
            return false;
        }
        for (i, slot) in out.iter_mut().enumerate().take(nargs as usize) {
            *slot = ffi::PyTuple_GetItem(args, i as ffi::Py_ssize_t);
        }
        if !kwargs.is_null() && ffi::PyDict_Size(kwargs) > 0 {
            let mut used = 0;
            for (i, name) in names.iter().enumerate() {
                let v = ffi::PyDict_GetItemString(kwargs, name.as_ptr());
                if v.is_null() {
                    continue;
                }
                if !out[i].is_null() {
                    let msg = format!(
                        "{type_name}() got multiple values for argument '{}'",
                        name.to_string_lossy()
                    );
                    PyTypeError::new_err(msg).restore(Python::assume_attached());
                    return false;
                }
                out[i] = v;
                used += 1;
            }
            if used != ffi::PyDict_Size(kwargs) {
                let expected: Vec<_> = names.iter().map(|n| n.to_string_lossy()).collect();
                let msg = format!(
                    "{type_name}() got an unexpected keyword argument (accepted: {})",
                    expected.join(", ")
                );
                PyTypeError::new_err(msg).restore(Python::assume_attached());
                return false;
            }
        }
        true
    }
}

/// Allocates an object of a non-GC type, zeroed.
///
/// # Safety
/// `tp` must be one of the two types made here; the thread attached.
unsafe fn alloc(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    unsafe { ffi::PyType_GenericAlloc(tp, 0) }
}

unsafe extern "C" fn dealloc(obj: *mut ffi::PyObject) {
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        ffi::PyObject_Free(obj.cast());
        // Instances of heap types own a reference to their type.
        ffi::Py_DECREF(tp.cast());
    }
}

unsafe extern "C" fn sample_new(
    subtype: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    unsafe {
        let mut a = [ptr::null_mut(); 2];
        if !gather("QuerySample", [c"id", c"index"], args, kwargs, &mut a) {
            return ptr::null_mut();
        }
        let mut v = [0u64; 2];
        for (slot, obj) in v.iter_mut().zip(a) {
            if !obj.is_null() {
                match arg_u64(obj) {
                    Some(x) => *slot = x,
                    None => return ptr::null_mut(),
                }
            }
        }
        let obj = alloc(subtype);
        if !obj.is_null() {
            let s = obj.cast::<RawSample>();
            (*s).id = v[0];
            (*s).index = v[1];
        }
        obj
    }
}

unsafe extern "C" fn response_new(
    subtype: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    unsafe {
        let mut a = [ptr::null_mut(); 4];
        if !gather(
            "QuerySampleResponse",
            [c"id", c"data", c"size", c"n_tokens"],
            args,
            kwargs,
            &mut a,
        ) {
            return ptr::null_mut();
        }
        let mut v = [0u64; 3];
        for (slot, obj) in v.iter_mut().zip(&a[..3]) {
            if !obj.is_null() {
                match arg_u64(*obj) {
                    Some(x) => *slot = x,
                    None => return ptr::null_mut(),
                }
            }
        }
        let mut n_tokens = 0i64;
        if !a[3].is_null() {
            match arg_i64(a[3]) {
                Some(x) => n_tokens = x,
                None => return ptr::null_mut(),
            }
        }
        let obj = alloc(subtype);
        if !obj.is_null() {
            let r = obj.cast::<RawResponse>();
            (*r).id = v[0];
            (*r).data = v[1];
            (*r).size = v[2];
            (*r).n_tokens = n_tokens;
        }
        obj
    }
}

/// Returns a new `str` object (null with an exception set on failure).
fn new_str(s: &str) -> *mut ffi::PyObject {
    unsafe {
        ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast::<c_char>(), s.len() as ffi::Py_ssize_t)
    }
}

unsafe extern "C" fn sample_repr(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    let s = unsafe { &*obj.cast::<RawSample>() };
    new_str(&format!("QuerySample(id={}, index={})", s.id, s.index))
}

unsafe extern "C" fn response_repr(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    let r = unsafe { &*obj.cast::<RawResponse>() };
    new_str(&format!(
        "QuerySampleResponse(id={}, data={:#x}, size={}, n_tokens={})",
        r.id, r.data, r.size, r.n_tokens
    ))
}

/// `__reduce__`: `(type, (fields...))`, so both pickle and copy.
unsafe extern "C" fn sample_reduce(
    obj: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    unsafe {
        let py = Python::assume_attached();
        let s = &*obj.cast::<RawSample>();
        let tp = Bound::from_borrowed_ptr(py, ffi::Py_TYPE(obj).cast());
        reduce_result(py, tp, (s.id, s.index))
    }
}

unsafe extern "C" fn response_reduce(
    obj: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    unsafe {
        let py = Python::assume_attached();
        let r = &*obj.cast::<RawResponse>();
        let tp = Bound::from_borrowed_ptr(py, ffi::Py_TYPE(obj).cast());
        reduce_result(py, tp, (r.id, r.data, r.size, r.n_tokens))
    }
}

fn reduce_result<'py, A>(py: Python<'py>, tp: Bound<'py, PyAny>, args: A) -> *mut ffi::PyObject
where
    A: IntoPyObjectExt<'py>,
{
    let built = args
        .into_bound_py_any(py)
        .and_then(|a| PyTuple::new(py, [tp, a]));
    match built {
        Ok(t) => t.into_ptr(),
        Err(e) => {
            e.restore(py);
            ptr::null_mut()
        }
    }
}

fn member(
    name: &'static CStr,
    type_code: c_int,
    offset: usize,
    doc: &'static CStr,
) -> ffi::PyMemberDef {
    ffi::PyMemberDef {
        name: name.as_ptr(),
        type_code,
        offset: offset as ffi::Py_ssize_t,
        flags: 0,
        doc: doc.as_ptr(),
    }
}

/// What a type made here consists of.
struct TypeDef {
    name: &'static CStr,
    doc: &'static CStr,
    basicsize: usize,
    new: ffi::newfunc,
    repr: ffi::reprfunc,
    reduce: ffi::PyCFunction,
    members: Vec<ffi::PyMemberDef>,
}

/// Builds a type from a spec; the member and method tables are leaked (a
/// type lives as long as the process).
fn make_type(py: Python<'_>, def: TypeDef) -> PyResult<*mut ffi::PyTypeObject> {
    let TypeDef {
        name,
        doc,
        basicsize,
        new,
        repr,
        reduce,
        mut members,
    } = def;
    members.push(ffi::PyMemberDef::default());
    let members: &'static mut [ffi::PyMemberDef] = Box::leak(members.into_boxed_slice());
    let methods: &'static mut [ffi::PyMethodDef] = Box::leak(Box::new([
        ffi::PyMethodDef {
            ml_name: c"__reduce__".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: reduce,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Pickle support.".as_ptr(),
        },
        ffi::PyMethodDef::zeroed(),
    ]));
    let mut slots = [
        ffi::PyType_Slot {
            slot: ffi::Py_tp_new,
            pfunc: new as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_dealloc,
            pfunc: dealloc as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_repr,
            pfunc: repr as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_members,
            pfunc: members.as_mut_ptr().cast(),
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_methods,
            pfunc: methods.as_mut_ptr().cast(),
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_doc,
            pfunc: doc.as_ptr() as *mut c_void,
        },
        ffi::PyType_Slot::default(),
    ];
    let mut spec = ffi::PyType_Spec {
        name: name.as_ptr(),
        basicsize: basicsize as c_int,
        itemsize: 0,
        flags: ffi::Py_TPFLAGS_DEFAULT as _,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: a well-formed spec; names and tables are 'static.
    let tp = unsafe { ffi::PyType_FromSpec(&mut spec) };
    if tp.is_null() {
        return Err(PyErr::fetch(py));
    }
    Ok(tp.cast())
}

/// Creates the two types (once per process) and adds them to `m`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    if SAMPLE_TYPE.load(Ordering::Acquire).is_null() {
        let sample = make_type(
            py,
            TypeDef {
                name: c"yardstick._loadgen.QuerySample",
                doc:
                    c"QuerySample(id=0, index=0)\n--\n\nOne sample of a query: the response id to \
                       answer with (opaque) and the sample's index in the sample library.",
                basicsize: std::mem::size_of::<RawSample>(),
                new: sample_new,
                repr: sample_repr,
                reduce: sample_reduce,
                members: vec![
                    member(
                        c"id",
                        ffi::Py_T_ULONGLONG,
                        std::mem::offset_of!(RawSample, id),
                        c"The response id.",
                    ),
                    member(
                        c"index",
                        ffi::Py_T_ULONGLONG,
                        std::mem::offset_of!(RawSample, index),
                        c"The sample's index in the sample library.",
                    ),
                ],
            },
        )?;
        let response = make_type(
            py,
            TypeDef {
                name: c"yardstick._loadgen.QuerySampleResponse",
                doc: c"QuerySampleResponse(id=0, data=0, size=0, n_tokens=0)\n--\n\nOne answer: the \
                       response id, the integer address and the size in bytes of the response data, \
                       and the number of output tokens (LLMs). The bytes are read during \
                       QuerySamplesComplete, and only for responses that go to the accuracy log: they \
                       must stay valid until it returns.",
                basicsize: std::mem::size_of::<RawResponse>(),
                new: response_new,
                repr: response_repr,
                reduce: response_reduce,
                members: vec![
                member(c"id", ffi::Py_T_ULONGLONG, std::mem::offset_of!(RawResponse, id), c"The response id."),
                member(c"data", ffi::Py_T_ULONGLONG, std::mem::offset_of!(RawResponse, data), c"Address of the response bytes."),
                member(c"size", ffi::Py_T_ULONGLONG, std::mem::offset_of!(RawResponse, size), c"Size of the response in bytes."),
                member(c"n_tokens", ffi::Py_T_LONGLONG, std::mem::offset_of!(RawResponse, n_tokens), c"Output tokens (token-latency tests)."),
                ],
            },
        )?;
        SAMPLE_TYPE.store(sample, Ordering::Release);
        RESPONSE_TYPE.store(response, Ordering::Release);
    }
    // SAFETY: the pointers are live types (strong references kept forever).
    unsafe {
        let s = Bound::from_borrowed_ptr(py, SAMPLE_TYPE.load(Ordering::Acquire).cast());
        let r = Bound::from_borrowed_ptr(py, RESPONSE_TYPE.load(Ordering::Acquire).cast());
        m.add("QuerySample", s)?;
        m.add("QuerySampleResponse", r)?;
    }
    Ok(())
}

fn type_ptr(slot: &AtomicPtr<ffi::PyTypeObject>) -> PyResult<*mut ffi::PyTypeObject> {
    let tp = slot.load(Ordering::Acquire);
    if tp.is_null() {
        return Err(PyRuntimeError::new_err(
            "yardstick._loadgen is not initialised",
        ));
    }
    Ok(tp)
}

/// A new `QuerySample` object.
pub fn new_sample(py: Python<'_>, id: u64, index: u64) -> PyResult<Bound<'_, PyAny>> {
    let tp = type_ptr(&SAMPLE_TYPE)?;
    // SAFETY: attached; `tp` is the QuerySample type.
    unsafe {
        let obj = alloc(tp);
        if obj.is_null() {
            return Err(PyErr::fetch(py));
        }
        let s = obj.cast::<RawSample>();
        (*s).id = id;
        (*s).index = index;
        Ok(Bound::from_owned_ptr(py, obj))
    }
}

/// The `(id, index)` of a `QuerySample` object, if `obj` is one.
#[inline]
pub fn sample_fields(obj: &Bound<'_, PyAny>) -> Option<(u64, u64)> {
    let tp = SAMPLE_TYPE.load(Ordering::Relaxed);
    let p = obj.as_ptr();
    // SAFETY: `p` is a live object; its layout is RawSample when its type
    // is exactly ours (the type cannot be subclassed).
    unsafe {
        if ffi::Py_TYPE(p) != tp || tp.is_null() {
            return None;
        }
        let s = &*p.cast::<RawSample>();
        Some((s.id, s.index))
    }
}

/// The fields of a `QuerySampleResponse` object, if `obj` is one.
#[inline]
pub fn response_fields(obj: &Bound<'_, PyAny>) -> Option<crate::samples::ResponseFields> {
    let tp = RESPONSE_TYPE.load(Ordering::Relaxed);
    let p = obj.as_ptr();
    // SAFETY: as in `sample_fields`.
    unsafe {
        if ffi::Py_TYPE(p) != tp || tp.is_null() {
            return None;
        }
        let r = &*p.cast::<RawResponse>();
        Some(crate::samples::ResponseFields {
            id: r.id,
            data: r.data,
            size: r.size,
            n_tokens: r.n_tokens,
        })
    }
}
