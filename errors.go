// Package munigis holds what every part of the platform shares: the error
// codes that the web layer maps to HTTP statuses in one place, and the acting
// user carried in a request context.
package munigis

import (
	"errors"
	"fmt"
)

// Code classifies an error so that the web layer can pick an HTTP status (or
// an OGC exception code) without knowing which package produced it.
type Code string

// Error codes. Internal is the default for any error that is not an *Error:
// its text is logged, never shown to a client.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	TooLarge     Code = "too_large"
	Unavailable  Code = "unavailable"
	Internal     Code = "internal"
)

// Error is an error meant to be shown to a person: Message says what went
// wrong and, where it helps, what to do. Err keeps the cause for logs.
type Error struct {
	Code    Code
	Message string
	// MessageBG is the message in Bulgarian, when the producer has one; the
	// user interface shows it first.
	MessageBG string
	Err       error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error that keeps err as its cause; the cause is logged but
// never shown to clients.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal when
// there is none, and "" for a nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the message a client may see: the Message of the first
// *Error in err's chain, or a generic text for internal errors, so that
// database or system error text never leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Internal error: the problem was logged; please try again or contact the administrator."
}
