"""
JSON-lines server that runs order components for SPtrader (stdlib only, Python >= 3.8).

The protocol channel is a private copy of the process's stdin/stdout taken at start-up: fd 1 is then
pointed at stderr and fd 0 at devnull, so nothing a component prints (even with os.write) can corrupt
a response. Per call, sys.stdout/sys.stderr are bounded capturing writers returned with the result.

Components are loaded by compiling their source into a fresh module, never importlib.reload: a .pyc
is validated by whole-second mtime and size, so a quick same-size edit could run stale code.
"""
import json
import math
import os
import sys
import time
import types

BUNDLED_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'sptrader_lib')
FALLBACK_MODULES = {
    'core': ('core/__init__.py', True),
    'core.orders': ('core/orders/__init__.py', True),
    'core.base': ('core/base/__init__.py', True),
    'core.orders.order_base': ('core/orders/order_base.py', False),
    'core.base.order': ('core/base/order.py', False),
}
NONFINITE_KEY = '__sptrader_nonfinite__'


class ComponentFailure(Exception):
    def __init__(self, code, message, file=None, line=None, traceback_text=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.traceback_text = traceback_text


class FallbackFinder(object):
    """Serves the bundled base classes only when the user's workspace does not provide them."""

    def find_spec(self, fullname, path=None, target=None):
        entry = FALLBACK_MODULES.get(fullname)
        if entry is None:
            return None
        # importlib.machinery is already loaded at start-up; importlib.util would cost ~2 ms per cold run.
        import importlib.machinery as machinery
        relative, is_package = entry
        location = os.path.join(BUNDLED_ROOT, relative)
        spec = machinery.ModuleSpec(fullname, machinery.SourceFileLoader(fullname, location), origin=location, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(location)]
        spec.has_location = True
        return spec


class LimitExceeded(Exception):
    pass


class Capture(object):
    """A text stream that keeps at most `limit` bytes and remembers how much more was written."""

    def __init__(self, limit, shared):
        self.parts = []
        self.limit = limit
        self.shared = shared  # [bytes used by all captures of this call]
        self.buffer = _BytesAdapter(self)
        self.encoding = 'utf-8'
        self.errors = 'replace'

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        size = len(text.encode('utf-8', 'replace'))
        self.shared[0] += size
        if self.shared[0] <= self.limit:
            self.parts.append(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError('captured stream has no file descriptor')

    def getvalue(self):
        return ''.join(self.parts)


class _BytesAdapter(object):
    def __init__(self, owner):
        self.owner = owner

    def write(self, data):
        self.owner.write(bytes(data).decode('utf-8', 'replace'))
        return len(data)

    def flush(self):
        pass


def json_safe(value, path, seen_depth=0):
    if seen_depth > 100:
        raise ComponentFailure('NOT_SERIALIZABLE', 'the result at %s is nested too deeply' % path)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {NONFINITE_KEY: 'NaN'}
        if math.isinf(value):
            return {NONFINITE_KEY: 'Infinity' if value > 0 else '-Infinity'}
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                k = str(k)
            out[k] = json_safe(v, '%s.%s' % (path, k), seen_depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [json_safe(v, '%s[%d]' % (path, i), seen_depth + 1) for i, v in enumerate(value)]
    import datetime
    import decimal
    if isinstance(value, decimal.Decimal):
        return json_safe(float(value), path, seen_depth)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    item = getattr(value, 'item', None)
    if callable(item):
        try:
            return json_safe(item(), path, seen_depth + 1)
        except Exception:
            pass
    isoformat = getattr(value, 'isoformat', None)
    if callable(isoformat):
        try:
            return str(isoformat())
        except Exception:
            pass
    raise ComponentFailure('NOT_SERIALIZABLE', 'the value at %s is a %s, which cannot be sent as JSON; return numbers, strings, lists and dicts'
                           % (path, type(value).__name__))


def component_frame(tb, file):
    """The innermost traceback frame inside the component's file, and the formatted tail from it."""
    import traceback
    frames = traceback.extract_tb(tb)
    line = None
    first = None
    for i, frame in enumerate(frames):
        if os.path.abspath(frame.filename) == file:
            line = frame.lineno
            if first is None:
                first = i
    text = ''.join(traceback.format_list(frames[first:] if first is not None else frames))
    return line, text


def describe(exc):
    return '%s: %s' % (type(exc).__name__, exc)


class Server(object):
    def __init__(self, proto_in, proto_out):
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.modules = {}  # file -> (key, module)
        self.inspected = {}  # file -> (key, result): parsing is the costly part of a warm Test Order
        self.instances = {}  # run_batch instance key -> (module, class, parameters JSON, instance)

    def serve(self):
        for raw in self.proto_in:
            try:
                request = json.loads(raw.decode('utf-8'))
            except ValueError as e:
                self.send({'id': None, 'ok': False, 'error': {'code': 'PROTOCOL_ERROR', 'message': 'bad request line: %s' % e}})
                continue
            self.send(self.handle(request))

    def send(self, response):
        self.proto_out.write(json.dumps(response, ensure_ascii=True, allow_nan=False).encode('ascii') + b'\n')
        self.proto_out.flush()

    def handle(self, request):
        rid = request.get('id')
        op = request.get('op')
        try:
            if op == 'ping':
                return {'id': rid, 'ok': True, 'python': list(sys.version_info[:3]), 'executable': sys.executable}
            if op == 'inspect':
                result = self.inspect(self.check_file(request.get('file')))
                result.update({'id': rid, 'ok': True})
                return result
            if op == 'run':
                return self.run(rid, request)
            if op == 'run_batch':
                return self.run_batch(rid, request)
            return {'id': rid, 'ok': False, 'error': {'code': 'PROTOCOL_ERROR', 'message': 'unknown op %r' % (op,)}}
        except ComponentFailure as f:
            return {'id': rid, 'ok': False, 'stdout': '', 'stderr': '', 'error': failure_json(f)}

    def check_file(self, file):
        if not isinstance(file, str) or not file:
            raise ComponentFailure('PROTOCOL_ERROR', 'the request names no file')
        file = os.path.abspath(file)
        if not file.endswith('.py'):
            raise ComponentFailure('NOT_PYTHON_FILE', '%s is not a Python file (.py)' % file, file)
        if not os.path.isfile(file):
            raise ComponentFailure('FILE_NOT_FOUND', '%s does not exist' % file, file)
        return file

    def inspect(self, file):
        st = os.stat(file)
        key = (st.st_mtime_ns, st.st_size)
        cached = self.inspected.get(file)
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        result = self.inspect_uncached(file)
        self.inspected[file] = (key, result)
        return dict(result)

    def inspect_uncached(self, file):
        import ast
        with open(file, 'rb') as f:
            source = f.read()
        try:
            tree = ast.parse(source, file)
        except SyntaxError as e:
            raise ComponentFailure('SYNTAX_ERROR', 'syntax error at line %s, column %s: %s' % (e.lineno, e.offset, e.msg), file, e.lineno)
        classes = []
        metadata = None
        metadata_error = None
        metadata_version = None
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                methods = set(n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
                bases = [ast.get_source_segment(source.decode('utf-8', 'replace'), b) or '' for b in node.bases] if hasattr(ast, 'get_source_segment') else []
                entry = None
                if 'generate_order' in methods or any(b.endswith('OrderBase') for b in bases):
                    entry = 'generate_order'
                elif 'execute' in methods or any(b == 'Order' or b.endswith('.Order') for b in bases):
                    entry = 'execute'
                classes.append({'name': node.name, 'line': node.lineno, 'bases': bases, 'entry_point': entry})
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if name in ('__metadata__', '__metadata_version__'):
                    try:
                        value = json_safe(ast.literal_eval(node.value), name)
                    except (ValueError, SyntaxError, TypeError, ComponentFailure) as e:
                        if name == '__metadata__':
                            metadata_error = '__metadata__ at line %d is not a literal: %s' % (node.lineno, e)
                        continue
                    if name == '__metadata__':
                        metadata = value if isinstance(value, dict) else None
                    else:
                        metadata_version = value
        return {'classes': classes, 'metadata': metadata, 'metadata_error': metadata_error, 'metadata_version': metadata_version}

    def load(self, file):
        st = os.stat(file)
        key = (st.st_mtime_ns, st.st_size)
        cached = self.modules.get(file)
        if cached is not None and cached[0] == key:
            return cached[1]
        with open(file, 'rb') as f:
            source = f.read()
        try:
            code = compile(source, file, 'exec', dont_inherit=True)
        except SyntaxError as e:
            raise ComponentFailure('SYNTAX_ERROR', 'syntax error at line %s, column %s: %s' % (e.lineno, e.offset, e.msg), file, e.lineno)
        name = 'sptrader_component_%x' % (abs(hash(file)),)
        module = types.ModuleType(name)
        module.__file__ = file
        sys.modules[name] = module
        try:
            exec(code, module.__dict__)
        except ImportError as e:
            line, text = component_frame(sys.exc_info()[2], file)
            missing = getattr(e, 'name', None) or str(e)
            raise ComponentFailure('IMPORT_ERROR', '%s (line %s imports %s); install it into the interpreter that runs components, or fix the import'
                                   % (describe(e), line, missing), file, line, text)
        except SystemExit as e:
            raise ComponentFailure('COMPONENT_EXIT', 'the component called sys.exit(%r) while loading; components must return, not exit' % (e.code,), file)
        except Exception as e:
            line, text = component_frame(sys.exc_info()[2], file)
            raise ComponentFailure('IMPORT_ERROR', 'loading the component raised %s' % describe(e), file, line, text)
        self.modules[file] = (key, module)
        return module

    def find_class(self, module, file, class_name):
        candidates = []
        for value in list(vars(module).values()):
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            if getattr(value, '__abstractmethods__', None):
                continue
            if callable(getattr(value, 'generate_order', None)) or callable(getattr(value, 'execute', None)):
                candidates.append(value)
        if class_name:
            for c in candidates:
                if c.__name__ == class_name:
                    return c
            raise ComponentFailure('CLASS_NOT_FOUND', 'no order component class named %s in %s; available: %s'
                                   % (class_name, file, ', '.join(c.__name__ for c in candidates) or 'none'), file)
        if not candidates:
            raise ComponentFailure('NO_COMPONENT_CLASS', 'no order component class in %s: define a class with generate_order(market_data, signal) '
                                   '(deriving OrderBase) or execute(market_state) (deriving Order)' % file, file)
        if len(candidates) > 1:
            names = ', '.join(sorted(c.__name__ for c in candidates))
            raise ComponentFailure('AMBIGUOUS_COMPONENT_CLASS', '%s defines several order components (%s); choose one with --class NAME' % (file, names), file)
        return candidates[0]

    def run(self, rid, request):
        file = self.check_file(request.get('file'))
        limit = int(request.get('output_limit') or 1048576)
        shared = [0]
        out = Capture(limit, shared)
        err = Capture(limit, shared)
        real_out, real_err, real_in = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr = out, err
        response = {'id': rid, 'ok': False, 'result': None, 'class_name': None, 'entry_point': None, 'metadata': None, 'error': None}
        started = time.perf_counter()
        try:
            module = self.load(file)
            response['load_ms'] = (time.perf_counter() - started) * 1000
            cls, entry, params = self.resolve(module, file, request, response)
            instance = self.instantiate(cls, entry, params, file)
            market_data = request.get('market_data') or {}
            signal = request.get('signal')
            call_started = time.perf_counter()
            try:
                if entry == 'generate_order':
                    result = instance.generate_order(market_data, signal)
                else:
                    state = dict(market_data)
                    if signal is not None:
                        state['signal'] = signal
                    result = instance.execute(state)
            except SystemExit as e:
                raise ComponentFailure('COMPONENT_EXIT', 'the component called sys.exit(%r) inside %s; return None to place no order instead' % (e.code, entry), file)
            except Exception as e:
                line, text = component_frame(sys.exc_info()[2], file)
                raise ComponentFailure('COMPONENT_ERROR', '%s raised %s' % (entry, describe(e)), file, line, text)
            finally:
                response['component_ms'] = (time.perf_counter() - call_started) * 1000
            if isinstance(result, (bytes, bytearray)):
                result = bytes(result).decode('utf-8', 'replace')
            if isinstance(result, str):
                try:
                    result = json.loads(result)
                except ValueError as e:
                    raise ComponentFailure('COMPONENT_ERROR', '%s returned a string that is not JSON (%s); return a dict or to_json(order)' % (entry, e), file)
            response['result'] = json_safe(result, 'order')
            response['ok'] = True
        except ComponentFailure as f:
            response['error'] = failure_json(f)
        finally:
            sys.stdout, sys.stderr, sys.stdin = real_out, real_err, real_in
        if shared[0] > limit:
            response['ok'] = False
            response['result'] = None
            response['error'] = {'code': 'OUTPUT_LIMIT_EXCEEDED', 'file': file,
                                 'message': 'the component printed %d bytes, more than the limit of %d; nothing was sent (print less, or raise the output limit)' % (shared[0], limit)}
        response['stdout'] = out.getvalue()
        response['stderr'] = err.getvalue()
        return response

    def run_batch(self, rid, request):
        """
        Runs one component over many market_data dicts in one round trip (replay). Request keys:
        file, class_name, parameters, signal, output_limit as for `run`; `common` (a dict under every
        item), `keys` and `rows` (item i is dict(common) updated with zip(keys, rows[i]),
        and market_data[index_key] = index_start + i when `index_key` is given),
        `stop_on_order` (stop after the first item that returned an order, so the caller can act on
        it before the next item runs), `instance` (a key: the component instance is kept across
        batches under it while the file, class and parameters stay the same; None: a fresh instance
        per batch). Answer: `done` items run; `results` only for items that returned something or
        raised ({index, ok, result} or {index, ok: false, error}); a failure to load or construct the
        component fails the whole batch (ok false, error), like `run`.
        """
        file = self.check_file(request.get('file'))
        limit = int(request.get('output_limit') or 1048576)
        shared = [0]
        out = Capture(limit, shared)
        err = Capture(limit, shared)
        real_out, real_err, real_in = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr = out, err
        response = {'id': rid, 'ok': False, 'class_name': None, 'entry_point': None, 'metadata': None, 'error': None,
                    'done': 0, 'results': [], 'component_ms': 0.0}
        try:
            module = self.load(file)
            cls, entry, params = self.resolve(module, file, request, response)
            key = request.get('instance')
            params_key = json.dumps(params, sort_keys=True, default=str)
            kept = self.instances.get(key) if key else None
            if kept is not None and kept[0] is module and kept[1] is cls and kept[2] == params_key:
                instance = kept[3]
            else:
                instance = self.instantiate(cls, entry, params, file)
                if key:
                    self.instances.pop(key, None)
                    while len(self.instances) >= 16:
                        self.instances.pop(next(iter(self.instances)))
                    self.instances[key] = (module, cls, params_key, instance)
            common = request.get('common') or {}
            keys = request.get('keys') or []
            rows = request.get('rows') or []
            signal = request.get('signal')
            stop_on_order = bool(request.get('stop_on_order'))
            index_key = request.get('index_key')
            index_start = int(request.get('index_start') or 0)
            results = response['results']
            call_started = time.perf_counter()
            done = 0
            for index, row in enumerate(rows):
                market_data = dict(common)
                market_data.update(zip(keys, row))
                if index_key:
                    market_data[index_key] = index_start + index
                done = index + 1
                try:
                    if entry == 'generate_order':
                        result = instance.generate_order(market_data, signal)
                    else:
                        if signal is not None:
                            market_data['signal'] = signal
                        result = instance.execute(market_data)
                    if result is None:
                        continue
                    if isinstance(result, (bytes, bytearray)):
                        result = bytes(result).decode('utf-8', 'replace')
                    if isinstance(result, str):
                        try:
                            result = json.loads(result)
                        except ValueError as e:
                            raise ComponentFailure('COMPONENT_ERROR', '%s returned a string that is not JSON (%s); return a dict or to_json(order)' % (entry, e), file)
                    results.append({'index': index, 'ok': True, 'result': json_safe(result, 'order')})
                    if stop_on_order and result is not None:
                        break
                except ComponentFailure as f:
                    results.append({'index': index, 'ok': False, 'error': failure_json(f)})
                except SystemExit as e:
                    f = ComponentFailure('COMPONENT_EXIT', 'the component called sys.exit(%r) inside %s; return None to place no order instead' % (e.code, entry), file)
                    results.append({'index': index, 'ok': False, 'error': failure_json(f)})
                except Exception as e:
                    line, text = component_frame(sys.exc_info()[2], file)
                    f = ComponentFailure('COMPONENT_ERROR', '%s raised %s' % (entry, describe(e)), file, line, text)
                    results.append({'index': index, 'ok': False, 'error': failure_json(f)})
            response['component_ms'] = (time.perf_counter() - call_started) * 1000
            response['done'] = done
            response['ok'] = True
        except ComponentFailure as f:
            response['error'] = failure_json(f)
        finally:
            sys.stdout, sys.stderr, sys.stdin = real_out, real_err, real_in
        if shared[0] > limit:
            response['ok'] = False
            response['error'] = {'code': 'OUTPUT_LIMIT_EXCEEDED', 'file': file,
                                 'message': 'the component printed %d bytes in one batch, more than the limit of %d (print less, or raise the output limit)' % (shared[0], limit)}
        response['stdout'] = out.getvalue()
        response['stderr'] = err.getvalue()
        return response

    def resolve(self, module, file, request, response):
        """The component class, its entry point and its parameters (metadata defaults, then the request's);
        records metadata, class name and entry point in the response as it goes."""
        meta = getattr(module, '__metadata__', None)
        try:
            response['metadata'] = json_safe(meta, '__metadata__') if isinstance(meta, dict) else None
        except ComponentFailure:
            response['metadata'] = None
        cls = self.find_class(module, file, request.get('class_name'))
        response['class_name'] = cls.__name__
        entry = 'generate_order' if callable(getattr(cls, 'generate_order', None)) else 'execute'
        response['entry_point'] = entry
        params = {}
        if isinstance(meta, dict) and isinstance(meta.get('parameters'), dict):
            for k, spec in meta['parameters'].items():
                if isinstance(spec, dict) and 'default' in spec:
                    params[k] = spec['default']
        params.update(request.get('parameters') or {})
        return cls, entry, params

    def instantiate(self, cls, entry, params, file):
        # The constructor's code object says what it accepts; the inspect module would cost ~3 ms to import.
        code = getattr(getattr(cls, '__init__', None), '__code__', None)
        try:
            if entry == 'generate_order':
                if code is None:
                    takes_config = cls.__init__ is not object.__init__
                else:
                    takes_config = code.co_argcount > 1 or bool(code.co_flags & 0x04)
                return cls(params) if takes_config else cls()
            if code is not None and not code.co_flags & 0x08:
                accepted = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
                params = dict((k, v) for k, v in params.items() if k in accepted)
            return cls(**params)
        except SystemExit as e:
            raise ComponentFailure('COMPONENT_EXIT', 'the component called sys.exit(%r) in its constructor' % (e.code,), file)
        except Exception as e:
            line, text = component_frame(sys.exc_info()[2], file)
            raise ComponentFailure('CONSTRUCTOR_ERROR', 'creating %s raised %s' % (cls.__name__, describe(e)), file, line, text)


def failure_json(f):
    return {'code': f.code, 'message': f.message, 'file': f.file, 'line': f.line, 'traceback': f.traceback_text}


def main():
    proto_out = os.fdopen(os.dup(1), 'wb')
    proto_in = os.fdopen(os.dup(0), 'rb')
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    sys.meta_path.append(FallbackFinder())
    Server(proto_in, proto_out).serve()


if __name__ == '__main__':
    main()
