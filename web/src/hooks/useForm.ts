import { useCallback, useEffect, useRef, useState, type FormEvent, type RefObject } from "react";
import { correctionMessage, fieldLines, formFailure, type FieldErrors } from "../forms";

type InputElement = HTMLInputElement & HTMLTextAreaElement;

export interface FormOptions<F extends string> {
  /** The form's fields in display order: focus goes to the first invalid one. */
  fields: readonly F[];
  labels: Record<F, string>;
  initial: Record<F, string>;
}

export interface SubmitOptions<F extends string> {
  /** Checks in the browser before anything is sent; the errors it returns stop the submission. */
  validate?: (values: Record<F, string>) => FieldErrors<F>;
  /** The call to make; the form stays busy until it settles (and after success, for navigation). */
  action: (values: Record<F, string>) => Promise<void>;
  /** A failure the page shows in its own way (true: handled), before the generic alert. */
  onError?: (error: unknown) => boolean | void;
  /** After success the form stays busy (the page navigates away) unless this is false. */
  busyAfterSuccess?: boolean;
}

/** What a `<Field>` needs for one field of the form. */
export interface FieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  inputRef: RefObject<InputElement | null>;
}

/**
 * The state every form of the app shares: the values, a busy flag against double submits, one
 * alert message, an error per field, and focus moved to the first invalid field after each
 * failed attempt (so a keyboard or screen-reader user lands where the work is).
 */
export function useForm<F extends string>({ fields, labels, initial }: FormOptions<F>) {
  const [values, setValues] = useState<Record<F, string>>(initial);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [attempt, setAttempt] = useState(0);
  const refs = useRef(new Map<F, RefObject<InputElement | null>>());

  const refFor = (field: F): RefObject<InputElement | null> => {
    let ref = refs.current.get(field);
    if (!ref) {
      ref = { current: null };
      refs.current.set(field, ref);
    }
    return ref;
  };

  useEffect(() => {
    if (attempt === 0) return;
    const first = fields.find((field) => errors[field]);
    if (first) refs.current.get(first)?.current?.focus();
  }, [attempt, errors, fields]);

  const setValue = useCallback((field: F, value: string) => setValues((current) => ({ ...current, [field]: value })), []);

  /** Show `fieldErrors` (and `text`, or the count of them) as a failed attempt. */
  const fail = useCallback((text: string | null, fieldErrors: FieldErrors<F> = {}) => {
    const count = Object.keys(fieldErrors).length;
    setErrors(fieldErrors);
    setMessage(text ?? correctionMessage(count));
    setAttempt((n) => n + 1);
  }, []);

  /** Clear the alert and the field errors (a page's own reset, e.g. after reloading data). */
  const clear = useCallback(() => {
    setMessage(null);
    setErrors({});
  }, []);

  function handleSubmit({ validate, action, onError, busyAfterSuccess = true }: SubmitOptions<F>) {
    return async (event: FormEvent) => {
      event.preventDefault();
      if (busy) return;
      const invalid = validate?.(values) ?? {};
      if (Object.keys(invalid).length > 0) {
        fail(null, invalid);
        return;
      }
      setBusy(true);
      clear();
      try {
        await action(values);
        if (!busyAfterSuccess) setBusy(false);
      } catch (error) {
        setBusy(false);
        if (onError?.(error)) return;
        const failure = formFailure(error, fields);
        fail(failure.message, failure.fields);
      }
    };
  }

  function field(name: F): FieldProps {
    return {
      label: labels[name],
      value: values[name],
      onChange: (value: string) => setValue(name, value),
      error: errors[name],
      inputRef: refFor(name),
    };
  }

  return {
    values,
    setValue,
    setValues,
    busy,
    message,
    errors,
    /** "Label: message" per invalid field, for the form's alert. */
    fieldMessages: fieldLines(errors, labels),
    field,
    fail,
    clear,
    handleSubmit,
  };
}
