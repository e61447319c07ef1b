//! `QuerySampleList`, the sequence an `IssueQuery` callback receives (the
//! `QuerySample` and `QuerySampleResponse` types themselves are in
//! `rawtypes`).
//!
//! The official module hands `IssueQuery` a Python `list` of `QuerySample`
//! objects: one object per sample, all alive at once (about 100 bytes a
//! sample with pybind11). `QuerySampleList` stores the samples compactly (4
//! bytes a sample in the common case: consecutive response ids and sample
//! indices that fit 32 bits) and makes a `QuerySample` object only when one
//! is asked for, so iterating an Offline query of millions of samples keeps
//! one sample object alive at a time. It behaves as a mutable list of
//! `QuerySample` (indexing, slicing, iteration, `len`, `sort`, `append`,
//! `pop`, ...; registered as a `collections.abc.MutableSequence`), except
//! that every access makes a fresh `QuerySample` object: `samples[0] is
//! samples[0]` is false, and changing an element's attribute does not
//! change the list (assign the element back instead).

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PySlice, PyTuple};
use pyo3::{intern, IntoPyObjectExt};

use yardstick_core::sut::QuerySample as CoreSample;

use crate::rawtypes;

/// A `QuerySampleResponse`'s fields, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseFields {
    pub id: u64,
    pub data: u64,
    pub size: u64,
    pub n_tokens: i64,
}

/// How a `QuerySampleList` holds its samples.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Store {
    /// Response ids `first_id, first_id + 1, ...` and indices that fit 32
    /// bits: what the core issues (4 bytes a sample).
    Compact { first_id: u64, indices: Vec<u32> },
    /// Anything else (after a sort or an insertion, say): 16 bytes a sample.
    Pairs(Vec<(u64, u64)>),
}

impl Store {
    fn from_core(samples: &[CoreSample]) -> Store {
        let first_id = samples.first().map_or(0, |s| s.id);
        let compact = samples.iter().enumerate().all(|(k, s)| {
            s.id.wrapping_sub(first_id) == k as u64 && u32::try_from(s.index).is_ok()
        });
        if compact {
            Store::Compact {
                first_id,
                indices: samples.iter().map(|s| s.index as u32).collect(),
            }
        } else {
            Store::Pairs(samples.iter().map(|s| (s.id, s.index as u64)).collect())
        }
    }

    #[inline]
    fn len(&self) -> usize {
        match self {
            Store::Compact { indices, .. } => indices.len(),
            Store::Pairs(p) => p.len(),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> (u64, u64) {
        match self {
            Store::Compact { first_id, indices } => {
                (first_id.wrapping_add(i as u64), u64::from(indices[i]))
            }
            Store::Pairs(p) => p[i],
        }
    }

    /// The general form, for mutation.
    fn pairs_mut(&mut self) -> &mut Vec<(u64, u64)> {
        if let Store::Compact { first_id, indices } = self {
            let pairs = indices
                .iter()
                .enumerate()
                .map(|(k, &i)| (first_id.wrapping_add(k as u64), u64::from(i)))
                .collect();
            *self = Store::Pairs(pairs);
        }
        match self {
            Store::Pairs(p) => p,
            Store::Compact { .. } => unreachable!("converted above"),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

/// The samples of one `IssueQuery` call: a mutable sequence of
/// `QuerySample`, stored compactly (see the module documentation).
#[pyclass(module = "yardstick._loadgen", name = "QuerySampleList", sequence)]
#[derive(Debug, Clone)]
pub struct QuerySampleList {
    store: Store,
}

impl QuerySampleList {
    /// The samples the core issued.
    pub fn from_core(samples: &[CoreSample]) -> Self {
        QuerySampleList {
            store: Store::from_core(samples),
        }
    }

    fn from_pairs(pairs: Vec<(u64, u64)>) -> Self {
        QuerySampleList {
            store: Store::Pairs(pairs),
        }
    }

    fn norm_index(&self, i: isize) -> PyResult<usize> {
        let n = self.store.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(PyIndexError::new_err("QuerySampleList index out of range"));
        }
        Ok(j as usize)
    }

    fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .store
            .iter()
            .map(|(id, index)| rawtypes::new_sample(py, id, index))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Replaces the contents with those of a Python list of `QuerySample`.
    fn set_from_pylist(&mut self, list: &Bound<'_, PyList>) -> PyResult<()> {
        let pairs = pairs_from_iterable(list.as_any())?;
        self.store = Store::Pairs(pairs);
        Ok(())
    }

    /// Runs a `list` operation on a copy and takes the result back: for the
    /// rarer mutations (slice assignment, sort with a key, ...).
    fn via_list<'py, R>(
        &mut self,
        py: Python<'py>,
        f: impl FnOnce(&Bound<'py, PyList>) -> PyResult<R>,
    ) -> PyResult<R> {
        let list = self.to_pylist(py)?;
        let r = f(&list)?;
        self.set_from_pylist(&list)?;
        Ok(r)
    }
}

/// The `(id, index)` of a `QuerySample`, or a TypeError naming what it got.
fn sample_of(obj: &Bound<'_, PyAny>) -> PyResult<(u64, u64)> {
    match rawtypes::sample_fields(obj) {
        Some(v) => Ok(v),
        None => Err(PyTypeError::new_err(format!(
            "QuerySampleList holds QuerySample objects, not {}",
            obj.get_type().name()?
        ))),
    }
}

fn pairs_from_iterable(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(u64, u64)>> {
    if let Ok(other) = obj.cast::<QuerySampleList>() {
        return Ok(other.borrow().store.iter().collect());
    }
    let mut out = Vec::with_capacity(obj.len().unwrap_or(0));
    for item in obj.try_iter()? {
        out.push(sample_of(&item?)?);
    }
    Ok(out)
}

/// Iterator over a `QuerySampleList`.
#[pyclass(module = "yardstick._loadgen", name = "QuerySampleListIterator")]
pub struct QuerySampleListIter {
    list: Py<QuerySampleList>,
    pos: usize,
    reverse: bool,
}

#[pymethods]
impl QuerySampleListIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(mut slf: PyRefMut<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let (id, index) = {
            let list = slf.list.bind(py).borrow();
            let n = list.store.len();
            if slf.pos >= n {
                return Ok(None);
            }
            let i = if slf.reverse {
                n - 1 - slf.pos
            } else {
                slf.pos
            };
            list.store.get(i)
        };
        slf.pos += 1;
        rawtypes::new_sample(py, id, index).map(Some)
    }

    fn __length_hint__(&self, py: Python<'_>) -> usize {
        self.list
            .bind(py)
            .borrow()
            .store
            .len()
            .saturating_sub(self.pos)
    }
}

#[pymethods]
impl QuerySampleList {
    /// `QuerySampleList(iterable=())`: from any iterable of `QuerySample`.
    #[new]
    #[pyo3(signature = (iterable = None))]
    fn py_new(iterable: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let pairs = match iterable {
            Some(it) => pairs_from_iterable(it)?,
            None => Vec::new(),
        };
        Ok(QuerySampleList::from_pairs(pairs))
    }

    fn __len__(&self) -> usize {
        self.store.len()
    }

    fn __getitem__<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = key.py();
        if let Ok(slice) = key.cast::<PySlice>() {
            let ind = slice.indices(self.store.len() as isize)?;
            let mut pairs = Vec::with_capacity(ind.slicelength);
            let mut i = ind.start;
            for _ in 0..ind.slicelength {
                pairs.push(self.store.get(i as usize));
                i += ind.step;
            }
            return QuerySampleList::from_pairs(pairs).into_bound_py_any(py);
        }
        let i: isize = key.extract().map_err(|_| {
            PyTypeError::new_err("QuerySampleList indices must be integers or slices")
        })?;
        let (id, index) = self.store.get(self.norm_index(i)?);
        rawtypes::new_sample(py, id, index)
    }

    fn __setitem__(&mut self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if key.cast::<PySlice>().is_ok() {
            return self.via_list(key.py(), |l| l.as_any().set_item(key, value));
        }
        let i: isize = key.extract().map_err(|_| {
            PyTypeError::new_err("QuerySampleList indices must be integers or slices")
        })?;
        let i = self.norm_index(i)?;
        let v = sample_of(value)?;
        self.store.pairs_mut()[i] = v;
        Ok(())
    }

    fn __delitem__(&mut self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        if key.cast::<PySlice>().is_ok() {
            return self.via_list(key.py(), |l| l.as_any().del_item(key));
        }
        let i: isize = key.extract().map_err(|_| {
            PyTypeError::new_err("QuerySampleList indices must be integers or slices")
        })?;
        let i = self.norm_index(i)?;
        self.store.pairs_mut().remove(i);
        Ok(())
    }

    fn __iter__(slf: PyRef<'_, Self>) -> QuerySampleListIter {
        QuerySampleListIter {
            list: slf.into(),
            pos: 0,
            reverse: false,
        }
    }

    fn __reversed__(slf: PyRef<'_, Self>) -> QuerySampleListIter {
        QuerySampleListIter {
            list: slf.into(),
            pos: 0,
            reverse: true,
        }
    }

    /// Membership by value: a `QuerySample` with the same id and index.
    fn __contains__(&self, value: &Bound<'_, PyAny>) -> bool {
        match sample_of(value) {
            Ok(v) => self.store.iter().any(|p| p == v),
            Err(_) => false,
        }
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut pairs: Vec<(u64, u64)> = self.store.iter().collect();
        pairs.extend(pairs_from_iterable(other)?);
        Ok(QuerySampleList::from_pairs(pairs))
    }

    /// `list + QuerySampleList` gives a `list`, as `list + list` does.
    fn __radd__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = other.py();
        let mine = self.to_pylist(py)?;
        other.call_method1(intern!(py, "__add__"), (mine,))
    }

    fn __iadd__(&mut self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        let more = pairs_from_iterable(other)?;
        self.store.pairs_mut().extend(more);
        Ok(())
    }

    fn __mul__(&self, n: isize) -> Self {
        let pairs: Vec<(u64, u64)> = self.store.iter().collect();
        let reps = n.max(0) as usize;
        QuerySampleList::from_pairs(pairs.repeat(reps))
    }

    fn __rmul__(&self, n: isize) -> Self {
        self.__mul__(n)
    }

    /// Equal to any sequence of `QuerySample` with the same ids and indices
    /// in the same order.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match pairs_from_iterable(other) {
            Ok(p) => p.len() == self.store.len() && self.store.iter().eq(p),
            Err(_) => false,
        }
    }

    fn __ne__(&self, other: &Bound<'_, PyAny>) -> bool {
        !self.__eq__(other)
    }

    fn __repr__(&self) -> String {
        const SHOWN: usize = 8;
        let mut parts: Vec<String> = self
            .store
            .iter()
            .take(SHOWN)
            .map(|(id, index)| format!("QuerySample(id={id}, index={index})"))
            .collect();
        if self.store.len() > SHOWN {
            parts.push(format!("... {} more", self.store.len() - SHOWN));
        }
        format!("QuerySampleList([{}])", parts.join(", "))
    }

    /// Pickles (and copies) as a list of `QuerySample`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let list = slf.borrow().to_pylist(py)?;
        PyTuple::new(
            py,
            [
                slf.get_type().into_any(),
                PyTuple::new(py, [list])?.into_any(),
            ],
        )
    }

    fn __copy__(&self) -> Self {
        self.clone()
    }

    #[pyo3(signature = (_memo = None))]
    fn __deepcopy__(&self, _memo: Option<&Bound<'_, PyAny>>) -> Self {
        self.clone()
    }

    fn append(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = sample_of(value)?;
        self.store.pairs_mut().push(v);
        Ok(())
    }

    fn extend(&mut self, values: &Bound<'_, PyAny>) -> PyResult<()> {
        self.__iadd__(values)
    }

    fn insert(&mut self, i: isize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = sample_of(value)?;
        let n = self.store.len() as isize;
        let j = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
        self.store.pairs_mut().insert(j, v);
        Ok(())
    }

    #[pyo3(signature = (i = -1))]
    fn pop<'py>(&mut self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        if self.store.len() == 0 {
            return Err(PyIndexError::new_err("pop from empty QuerySampleList"));
        }
        let j = self.norm_index(i)?;
        let (id, index) = self.store.pairs_mut().remove(j);
        rawtypes::new_sample(py, id, index)
    }

    /// Removes the first sample with the same id and index as `value`.
    fn remove(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = sample_of(value)?;
        let pos = self
            .store
            .iter()
            .position(|p| p == v)
            .ok_or_else(|| PyValueError::new_err("QuerySampleList.remove(x): x not in list"))?;
        self.store.pairs_mut().remove(pos);
        Ok(())
    }

    /// Position of the first sample with the same id and index as `value`.
    #[pyo3(signature = (value, start = 0, stop = None))]
    fn index(
        &self,
        value: &Bound<'_, PyAny>,
        start: isize,
        stop: Option<isize>,
    ) -> PyResult<usize> {
        let v = sample_of(value)?;
        let n = self.store.len() as isize;
        let clamp = |x: isize| if x < 0 { (x + n).max(0) } else { x.min(n) } as usize;
        let (a, b) = (clamp(start), clamp(stop.unwrap_or(n)));
        (a..b.max(a))
            .find(|&i| self.store.get(i) == v)
            .ok_or_else(|| PyValueError::new_err("QuerySample is not in the QuerySampleList"))
    }

    /// Samples with the same id and index as `value`.
    fn count(&self, value: &Bound<'_, PyAny>) -> usize {
        match sample_of(value) {
            Ok(v) => self.store.iter().filter(|&p| p == v).count(),
            Err(_) => 0,
        }
    }

    fn clear(&mut self) {
        self.store = Store::Pairs(Vec::new());
    }

    fn copy(&self) -> Self {
        self.clone()
    }

    fn reverse(&mut self) {
        self.store.pairs_mut().reverse();
    }

    /// Sorts in place, as `list.sort` (stable; `key` gets each `QuerySample`).
    #[pyo3(signature = (*, key = None, reverse = false))]
    fn sort(
        &mut self,
        py: Python<'_>,
        key: Option<&Bound<'_, PyAny>>,
        reverse: bool,
    ) -> PyResult<()> {
        self.via_list(py, |l| {
            let kwargs = pyo3::types::PyDict::new(py);
            if let Some(k) = key {
                kwargs.set_item(intern!(py, "key"), k)?;
            }
            kwargs.set_item(intern!(py, "reverse"), reverse)?;
            l.call_method(intern!(py, "sort"), (), Some(&kwargs))?;
            Ok(())
        })
    }

    /// Extension (not in the official API): the response ids, as a list of
    /// int, without making `QuerySample` objects.
    fn ids(&self) -> Vec<u64> {
        self.store.iter().map(|p| p.0).collect()
    }

    /// Extension (not in the official API): the sample indices, as a list
    /// of int, without making `QuerySample` objects.
    fn indices(&self) -> Vec<u64> {
        self.store.iter().map(|p| p.1).collect()
    }
}
