// Validates FHIR R4 JSON files with HAPI FHIR's FhirInstanceValidator, offline, in one JVM.
//
// Run by rosterhub/tools/hapi.py as a single-file source program (java -cp '<jars>/*' FhirValidate.java FILE...),
// so nothing is compiled ahead of time and no build step exists beside Maven's fetch.
//
// The validation support chain is the R4 core only (no terminology server, no network):
//   DefaultProfileValidationSupport          the R4 core StructureDefinitions, ValueSets and CodeSystems
//   CommonCodeSystemsTerminologyService      codes of the common systems (MIME types, languages, UCUM, ...)
//   InMemoryTerminologyServerValidationSupport  checks codes against the value sets and code systems it has
//   SnapshotGeneratingValidationSupport      snapshots for profiles that only carry a differential
//   UnknownCodeSystemWarningValidationSupport  a code from a system nobody here knows (the hub's own
//                                            https://rosterhub.org/CodeSystem/...) is a WARNING, not an error
//
// Output, on stdout: one JSON array, an object per file, {"file", "messages": [{"severity", "location",
// "messageId", "message"}]}. Exit status 0 when every file was read (whatever the validator found), 2 on usage
// or I/O errors: the caller decides what a finding means.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.common.hapi.validation.support.CachingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

public class FhirValidate {
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: java -cp '<hapi jars>/*' FhirValidate.java FILE.json...");
      System.exit(2);
    }
    FhirContext ctx = FhirContext.forR4();
    UnknownCodeSystemWarningValidationSupport unknownSystems = new UnknownCodeSystemWarningValidationSupport(ctx);
    unknownSystems.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);
    ValidationSupportChain chain =
        new ValidationSupportChain(
            new DefaultProfileValidationSupport(ctx),
            new CommonCodeSystemsTerminologyService(ctx),
            new InMemoryTerminologyServerValidationSupport(ctx),
            new SnapshotGeneratingValidationSupport(ctx),
            unknownSystems);
    FhirInstanceValidator instanceValidator = new FhirInstanceValidator(new CachingValidationSupport(chain));
    FhirValidator validator = ctx.newValidator().registerValidatorModule(instanceValidator);

    ObjectMapper json = new ObjectMapper();
    ArrayNode out = json.createArrayNode();
    for (String name : args) {
      String text;
      try {
        text = Files.readString(Path.of(name), StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        System.err.println("cannot read " + name + ": " + e);
        System.exit(2);
        return;
      }
      ValidationResult result = validator.validateWithResult(text);
      ObjectNode file = out.addObject();
      file.put("file", name);
      ArrayNode messages = file.putArray("messages");
      for (SingleValidationMessage m : result.getMessages()) {
        ObjectNode msg = messages.addObject();
        msg.put("severity", m.getSeverity().getCode());
        msg.put("location", m.getLocationString());
        msg.put("messageId", m.getMessageId());
        msg.put("message", m.getMessage());
      }
    }
    System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(out));
  }
}
