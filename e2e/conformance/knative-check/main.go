// Command knative-check runs Knative Serving's own defaulting and validation on manifests, so that
// ebb's validation can be compared with Knative's code rather than with its messages alone.
//
// It reads JSON lines on stdin, each {"id": "...", "object": {...}, "config": {"config-defaults":
// {...}, "config-features": {...}, "config-autoscaler": {...}}} (config optional; Knative's
// defaults otherwise), and writes one JSON line per input: whether Knative accepts the object, the
// field paths and messages of its errors and warnings, and the object after SetDefaults.
//
// The steps are those of Knative's admission webhooks on a create: decode the object, SetDefaults,
// encode and decode again (the mutating webhook's round-trip patch and the validating webhook's
// fresh decode), then Validate, with the ConfigMaps in the context as the webhook's config store
// puts them there. Unknown fields are rejected outside metadata (knative.dev/pkg/webhook/json.Decode
// with disallowUnknownFields): Knative's own webhooks leave that to the API server, which rejects
// them against the CRDs' schemas, and ebb's decoder rejects them too. What the webhook adds beyond
// these steps (the callbacks' dry run of the pod spec against the API server, user-info
// annotations) is not done here.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"knative.dev/pkg/apis"
	webhookjson "knative.dev/pkg/webhook/json"
	"knative.dev/serving/pkg/apis/config"
	v1 "knative.dev/serving/pkg/apis/serving/v1"
	asconfig "knative.dev/serving/pkg/autoscaler/config"
)

type input struct {
	ID     string                       `json:"id"`
	Object json.RawMessage              `json:"object"`
	Config map[string]map[string]string `json:"config,omitempty"`
}

type fieldError struct {
	Message string   `json:"message"`
	Paths   []string `json:"paths"`
	Details string   `json:"details,omitempty"`
}

type output struct {
	ID       string `json:"id"`
	Kind     string `json:"kind,omitempty"`
	Accepted bool   `json:"accepted"`
	// Paths are the field paths of every error, in Knative's order (by message, then path).
	Paths []string `json:"paths"`
	// Message is the error text as the webhook returns it (apis.FieldError.Error()).
	Message  string       `json:"message,omitempty"`
	Errors   []fieldError `json:"errors"`
	Warnings []fieldError `json:"warnings"`
	// Stage is where a rejection happened: "config", "decode" or "validate".
	Stage     string          `json:"stage,omitempty"`
	Defaulted json.RawMessage `json:"defaulted,omitempty"`
}

// resource is what the four serving kinds have in common for admission.
type resource interface {
	apis.Defaultable
	apis.Validatable
}

func newResource(apiVersion, kind string) (resource, error) {
	if apiVersion != v1.SchemeGroupVersion.String() {
		return nil, fmt.Errorf("unsupported apiVersion %q", apiVersion)
	}
	switch kind {
	case "Service":
		return &v1.Service{}, nil
	case "Configuration":
		return &v1.Configuration{}, nil
	case "Revision":
		return &v1.Revision{}, nil
	case "Route":
		return &v1.Route{}, nil
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

// configFrom builds the context's Config the way the webhook's config store does, from the
// ConfigMaps' data; a missing ConfigMap means Knative's defaults.
func configFrom(maps map[string]map[string]string) (*config.Config, error) {
	defaults, err := config.NewDefaultsConfigFromMap(maps[config.DefaultsConfigName])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.DefaultsConfigName, err)
	}
	features, err := config.NewFeaturesConfigFromMap(maps[config.FeaturesConfigName])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.FeaturesConfigName, err)
	}
	autoscaler, err := asconfig.NewConfigFromMap(maps[asconfig.ConfigName])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", asconfig.ConfigName, err)
	}
	return &config.Config{Defaults: defaults, Features: features, Autoscaler: autoscaler}, nil
}

func fieldErrors(fe *apis.FieldError) []fieldError {
	out := []fieldError{}
	if fe == nil {
		return out
	}
	for _, e := range fe.WrappedErrors() {
		paths := e.Paths
		if paths == nil {
			paths = []string{}
		}
		out = append(out, fieldError{Message: e.Message, Paths: paths, Details: e.Details})
	}
	return out
}

// decodeErrorPath is the dotted path Go's decoder names for a value of the wrong type, or "" when
// it names none. encoding/json records no list indices and names embedded structs by their Go
// type (spec.ConfigurationSpec.template); those segments, capitalised as JSON fields never are,
// are dropped.
func decodeErrorPath(err error) string {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return ""
	}
	parts := []string{}
	for _, part := range strings.Split(typeErr.Field, ".") {
		if part != "" && !unicode.IsUpper(rune(part[0])) {
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, ".")
}

func check(in input) output {
	out := output{ID: in.ID, Paths: []string{}, Errors: []fieldError{}, Warnings: []fieldError{}}
	reject := func(stage, message, path string) output {
		out.Stage = stage
		out.Message = message
		paths := []string{}
		if path != "" {
			paths = append(paths, path)
		}
		out.Paths = paths
		out.Errors = []fieldError{{Message: message, Paths: paths}}
		return out
	}

	cfg, err := configFrom(in.Config)
	if err != nil {
		return reject("config", err.Error(), "")
	}
	var typeMeta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(in.Object, &typeMeta); err != nil {
		return reject("decode", err.Error(), "")
	}
	out.Kind = typeMeta.Kind
	obj, err := newResource(typeMeta.APIVersion, typeMeta.Kind)
	if err != nil {
		return reject("decode", err.Error(), "")
	}
	if err := webhookjson.Decode(in.Object, obj, true); err != nil {
		return reject("decode", err.Error(), decodeErrorPath(err))
	}

	ctx := apis.WithinCreate(config.ToContext(context.Background(), cfg))
	obj.SetDefaults(ctx)
	defaulted, err := json.Marshal(obj)
	if err != nil {
		return reject("decode", err.Error(), "")
	}
	out.Defaulted = defaulted

	validated, _ := newResource(typeMeta.APIVersion, typeMeta.Kind)
	if err := webhookjson.Decode(defaulted, validated, true); err != nil {
		return reject("decode", fmt.Sprintf("decoding the defaulted object: %v", err), "")
	}
	result := validated.Validate(ctx)
	out.Warnings = fieldErrors(result.Filter(apis.WarningLevel))
	errs := result.Filter(apis.ErrorLevel)
	if errs == nil {
		out.Accepted = true
		return out
	}
	out.Stage = "validate"
	out.Message = errs.Error()
	out.Errors = fieldErrors(errs)
	for _, e := range out.Errors {
		out.Paths = append(out.Paths, e.Paths...)
	}
	return out
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 0, 1<<20), 64<<20)
	writer := bufio.NewWriter(os.Stdout)
	defer writer.Flush()
	encoder := json.NewEncoder(writer)
	for line := 1; scanner.Scan(); line++ {
		if len(scanner.Bytes()) == 0 {
			continue
		}
		var in input
		var out output
		if err := json.Unmarshal(scanner.Bytes(), &in); err != nil {
			out = output{ID: fmt.Sprintf("line %d", line), Stage: "input", Message: err.Error(),
				Paths: []string{}, Errors: []fieldError{}, Warnings: []fieldError{}}
		} else {
			out = check(in)
		}
		if err := encoder.Encode(out); err != nil {
			fmt.Fprintf(os.Stderr, "knative-check: %v\n", err)
			os.Exit(1)
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "knative-check: reading stdin: %v\n", err)
		os.Exit(1)
	}
}
